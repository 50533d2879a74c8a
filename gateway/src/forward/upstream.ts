import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../config/routeTable.ts';
import type { Exchange } from '../exchange.ts';
import type { UpstreamPools } from './pools.ts';
import type { ResponseStep } from './responseSteps.ts';
import type { TimerWheel } from './timerWheel.ts';

export type UpstreamFailure = 'refused' | 'reset' | 'timeout' | '5xx';

/** What one attempt is, for the upstream hooks (metrics, outlier detection, tracing, rollout counts). */
export interface AttemptInfo {
  /** 1 for the first attempt, 2 for a replay on the fallback. */
  readonly number: number;
  readonly backend: Backend;
}

/**
 * What the forwarder reports per attempt. The exchange carries the route (`exchange.route`),
 * so a hook can count per route and backend, failures the fallback hid from the client included.
 */
export interface UpstreamEvents {
  /** An attempt is about to go out; its request headers can still be added to (e.g. `traceparent`). */
  started?(exchange: Exchange, attempt: AttemptInfo, headers: IncomingHttpHeaders): void;
  failed(exchange: Exchange, backend: Backend, reason: UpstreamFailure, attempt: AttemptInfo): void;
  answered(exchange: Exchange, backend: Backend, status: number, attempt: AttemptInfo): void;
}

/** The request body as the forwarder sends it: none, kept whole here, or streamed from the client; and whether it may be sent twice. */
export interface ForwardBody {
  readonly data: null | Buffer | 'stream';
  readonly replayable: boolean;
}

/** What an attempt needs of the forwarder that made it (the Forwarder), so the two files import in one direction only. */
export interface AttemptHost {
  readonly pools: UpstreamPools;
  readonly events: UpstreamEvents;
  readonly wheel: TimerWheel;
  readonly draining: () => boolean;
  forward(exchange: Exchange, req: IncomingMessage, res: ServerResponse, backend: Backend, body: ForwardBody, steps: readonly ResponseStep[]): void;
}
