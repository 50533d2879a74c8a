import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../config/routeTable.ts';
import type { Exchange } from '../exchange.ts';
import { Attempt } from './attempt.ts';
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

export const NO_BODY: ForwardBody = Object.freeze({ data: null, replayable: true });

/**
 * Sends a request to a back end over undici (a Pool per origin, keep-alive) and streams the
 * answer back. Each attempt is an `Attempt` with its own state; after a failure the attempt
 * asks decide/ (fallbackFor) whether to replay, so the rules live in one place. The answer's
 * head goes through the given response steps before it is written.
 */
export class Forwarder {
  constructor(
    /** @internal */ readonly pools: UpstreamPools,
    /** @internal */ readonly events: UpstreamEvents,
    /** @internal */ readonly wheel: TimerWheel,
    /** @internal */ readonly draining: () => boolean,
  ) {}

  forward(exchange: Exchange, req: IncomingMessage, res: ServerResponse, backend: Backend, body: ForwardBody, steps: readonly ResponseStep[]): void {
    exchange.attempts += 1;
    exchange.backend = backend;
    exchange.upstreamMs = -1;
    const attempt = new Attempt(this, exchange, req, res, backend, body, steps);
    exchange.upstream = attempt;
    this.events.started?.(exchange, attempt, req.headers);
    attempt.send();
  }
}
