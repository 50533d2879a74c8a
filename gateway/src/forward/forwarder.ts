import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Backend } from '../config/routeTable.ts';
import type { Exchange } from '../exchange.ts';
import { Attempt } from './attempt.ts';
import type { UpstreamPools } from './pools.ts';
import type { ResponseStep } from './responseSteps.ts';
import type { TimerWheel } from './timerWheel.ts';
import type { AttemptHost, ForwardBody, UpstreamEvents } from './upstream.ts';

export const NO_BODY: ForwardBody = Object.freeze({ data: null, replayable: true });

/**
 * Sends a request to a back end over undici (a Pool per origin, keep-alive) and streams the
 * answer back. Each attempt is an `Attempt` with its own state; after a failure the attempt
 * asks decide/ (fallbackFor) whether to replay, so the rules live in one place. The answer's
 * head goes through the given response steps before it is written.
 */
export class Forwarder implements AttemptHost {
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
