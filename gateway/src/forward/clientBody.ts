import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Exchange } from '../exchange.ts';
import { sendJsonError } from './errorResponse.ts';
import type { Deadline, TimerWheel } from './timerWheel.ts';

/**
 * The deadline of a request body: the whole body must arrive within `timeouts.client_body_ms`
 * of the request's start, or the client gets 408 and the connection is closed (the rest of
 * the body is not read). A slow client is its own problem: the attempt it held up is cancelled
 * without counting against the back end or towards its ejection.
 */
export class ClientBodyDeadline implements Deadline {
  deadline = 0;

  constructor(
    private readonly exchange: Exchange,
    private readonly res: ServerResponse,
    private readonly timeoutMs: number,
    private readonly wheel: TimerWheel,
  ) {}

  /** Starts counting; stops by itself once the body has arrived or the response is done. */
  watch(req: IncomingMessage): void {
    this.wheel.start(this, this.timeoutMs);
    const stop = () => this.wheel.cancel(this);
    req.once('end', stop);
    this.res.once('close', stop);
  }

  expire(): void {
    const { exchange, res } = this;
    // The back end answered before reading the whole body: its answer stands.
    if (res.headersSent || exchange.finished) return;
    exchange.upstream?.cancel();
    exchange.failure = `client: the request body did not arrive within ${this.timeoutMs} ms`;
    sendJsonError(res, 408, `Request timeout: the request body did not arrive within ${this.timeoutMs} ms`, exchange.requestId, true);
  }
}
