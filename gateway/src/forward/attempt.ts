import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { Backend } from '../config/routeTable.ts';
import { fallbackFor, isReplaySafe } from '../decide/chooseBackend.ts';
import type { Exchange, UpstreamHandle } from '../exchange.ts';
import { sendJsonError } from './errorResponse.ts';
import type { ResponseHead, ResponseStep } from './responseSteps.ts';
import type { Deadline } from './timerWheel.ts';
import type { AttemptHost, AttemptInfo, ForwardBody, UpstreamFailure } from './upstream.ts';

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** Our own deadline fired: distinguishable from the back end closing the connection. */
class UpstreamTimeout extends Error {
  constructor(readonly phase: 'connect' | 'response') {
    super(`upstream ${phase} timeout`);
  }
}

/**
 * One attempt of one request to one back end: undici's dispatch handler, and the attempt's
 * own state. Read top to bottom: send → (connection) → request sent → the response timer
 * runs → head → either a replay on the fallback or the answer streamed to the client.
 * The back end is timed from the end of the request body only: a slow client never counts
 * against it (the client body has its own deadline, see clientBody.ts).
 */
export class Attempt implements Dispatcher.DispatchHandler, Deadline, UpstreamHandle, AttemptInfo {
  readonly number: number;
  deadline = 0;
  private phase: 'connect' | 'response' = 'connect';
  /** Finished one way or another: every later undici callback is ignored. */
  private done = false;
  private abortUpstream: ((error?: Error) => void) | null = null;
  /** The request may have reached the back end (its connection was established). */
  private reachedBackend = false;
  private sentAt = 0;
  /** A failed answer being read to the end and thrown away, while the fallback serves the client. */
  private discarding = false;
  private head: ResponseHead | null = null;
  /** The answer's first chunk, kept back for one tick (see onData). */
  private held: Buffer | null = null;
  /** The body is being written as it comes. */
  private streaming = false;
  /** undici's resume, called when a client that read slowly has drained its buffer. */
  private resumeOnDrain: (() => void) | null = null;

  constructor(
    private readonly forwarder: AttemptHost,
    private readonly exchange: Exchange,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    readonly backend: Backend,
    private readonly body: ForwardBody,
    private readonly steps: readonly ResponseStep[],
  ) {
    this.number = exchange.attempts;
  }

  send(): void {
    this.forwarder.wheel.start(this, this.backend.connectTimeoutMs);
    this.forwarder.pools.get(this.backend).dispatch(
      {
        path: this.req.url!,
        method: this.req.method as Dispatcher.HttpMethod,
        headers: this.req.headers,
        body: this.body.data === 'stream' ? this.req : this.body.data,
        bodyTimeout: this.backend.responseTimeoutMs,
        headersTimeout: 0,
      },
      this,
    );
  }

  /** The client is too slow or gone: stop quietly, nothing is counted against the back end. */
  cancel(): void {
    if (this.done) return;
    this.finish();
    this.abortUpstream?.(new Error('the client request ended before the answer'));
    if (this.head?.observers) for (const observer of this.head.observers) observer.cut('the client left before the answer ended');
  }

  expire(): void {
    if (this.done) return;
    const timeout = new UpstreamTimeout(this.phase);
    const abort = this.abortUpstream;
    this.failed(timeout);
    // After failed(): the error undici reports for this abort finds the attempt done.
    abort?.(timeout);
  }

  onConnect(abort: (error?: Error) => void): void {
    // A request given up (timeout, client gone) while it waited for a connection gets one later: drop it.
    if (this.done) return abort(new Error('the attempt was given up'));
    this.abortUpstream = abort;
    this.reachedBackend = true;
    this.forwarder.wheel.cancel(this);
  }

  onRequestSent(): void {
    if (this.done) return;
    this.sentAt = performance.now();
    this.phase = 'response';
    this.forwarder.wheel.start(this, this.backend.responseTimeoutMs);
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (this.done) return false;
    const { exchange, backend } = this;
    this.forwarder.wheel.cancel(this);
    exchange.upstreamMs = performance.now() - (this.sentAt || exchange.startedAt);
    if (status >= 500) this.forwarder.events.failed(exchange, backend, '5xx', this);
    else this.forwarder.events.answered(exchange, backend, status, this);
    if (RETRYABLE_STATUS.has(status)) {
      const next = fallbackFor(exchange.route!, backend, this.failedAttempt());
      if (next !== null) {
        exchange.failure = `${backend.name}: answered ${status}`;
        // The failed answer is read to its end and dropped, so its connection stays reusable.
        this.discarding = true;
        this.replay(next);
        return true;
      }
    }
    const headers: string[] = new Array(rawHeaders.length);
    for (let i = 0; i < rawHeaders.length; i++) headers[i] = rawHeaders[i]!.toString('latin1');
    const head: ResponseHead = { backend, status, statusText, headers, upstreamMs: exchange.upstreamMs, observers: null };
    this.head = head;
    for (const step of this.steps) step(head, exchange, this.res);
    this.res.writeHead(status, statusText, head.headers);
    this.resumeOnDrain = resume;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.discarding) return true;
    if (this.done) return false;
    const observers = this.head!.observers;
    if (observers !== null) for (const observer of observers) observer.data(chunk);
    if (this.held === null && !this.streaming) {
      // A small answer usually arrives whole, its end in the same read: holding its first
      // chunk lets head, body and end go out in one write (res.end(chunk)). A longer one is
      // let go at the end of this tick, so streaming answers are not delayed.
      this.held = chunk;
      process.nextTick(releaseHeld, this);
      return true;
    }
    this.release();
    if (this.res.write(chunk)) return true;
    // The client reads slower than the back end sends: pause the back end until it drains.
    this.res.once('drain', this.resumeOnDrain!);
    return false;
  }

  /** @internal Writes a held first chunk out (the answer goes on streaming). */
  release(): void {
    this.streaming = true;
    if (this.held === null) return;
    const chunk = this.held;
    this.held = null;
    if (!this.done) this.res.write(chunk);
  }

  onComplete(): void {
    if (this.discarding) return void (this.done = true);
    if (this.done) return;
    this.finish();
    const observers = this.head!.observers;
    if (observers !== null) for (const observer of observers) observer.end();
    const held = this.held;
    this.held = null;
    if (held !== null) this.res.end(held);
    else this.res.end();
  }

  onError(error: Error): void {
    if (this.discarding) return void (this.done = true);
    if (this.done) return;
    // The client's own body stream failing means the client left: not the back end's fault.
    if (this.req.destroyed && !this.req.complete) return this.cancel();
    this.failed(error);
  }

  private failed(error: Error): void {
    this.finish();
    const { exchange, backend, res } = this;
    if (this.head !== null) {
      // The head is out: the only honest signal left is to cut the client's response.
      if (exchange.finished) return;
      exchange.failure = `${backend.name}: reset mid-response`;
      this.forwarder.events.failed(exchange, backend, 'reset', this);
      if (this.head.observers) for (const observer of this.head.observers) observer.cut(`${backend.name} cut its answer`);
      return void res.destroy();
    }
    const reason = classify(error, this.reachedBackend);
    exchange.failure = `${backend.name}: ${reason} (${error.message})`;
    this.forwarder.events.failed(exchange, backend, reason, this);
    if (exchange.finished) return;
    const next = fallbackFor(exchange.route!, backend, this.failedAttempt());
    if (next !== null) return this.replay(next);
    const close = this.forwarder.draining();
    if (reason === 'timeout') return sendJsonError(res, 504, 'Gateway timeout: the service behind this path did not answer in time', exchange.requestId, close);
    if (!this.reachedBackend || reason === 'refused')
      return sendJsonError(res, 502, 'Bad gateway: the service behind this path could not be reached', exchange.requestId, close);
    if (!isReplaySafe(exchange.method)) {
      return sendJsonError(
        res,
        502,
        `Bad gateway: the service behind this path received this ${exchange.method} but lost the connection before answering; the outcome is unknown (it may have been applied): check before sending it again`,
        exchange.requestId,
        close,
      );
    }
    sendJsonError(res, 502, 'Bad gateway: the service behind this path closed the connection without answering', exchange.requestId, close);
  }

  private replay(next: Backend): void {
    this.exchange.decision = 'fallback';
    this.forwarder.forward(this.exchange, this.req, this.res, next, this.body, this.steps);
  }

  private failedAttempt() {
    return { attempts: this.exchange.attempts, method: this.exchange.method, reachedBackend: this.reachedBackend, bodyReplayable: this.body.replayable };
  }

  private finish(): void {
    this.done = true;
    this.forwarder.wheel.cancel(this);
    if (this.exchange.upstream === this) this.exchange.upstream = null;
  }
}

function releaseHeld(attempt: Attempt): void {
  attempt.release();
}

function classify(error: Error, reachedBackend: boolean): UpstreamFailure {
  if (error instanceof UpstreamTimeout || (error as NodeJS.ErrnoException).code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  const code = (error as NodeJS.ErrnoException).code;
  if (!reachedBackend && code !== undefined && UNREACHABLE.has(code)) return 'refused';
  return 'reset';
}
