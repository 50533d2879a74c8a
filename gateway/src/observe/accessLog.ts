import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import type { Exchange } from '../exchange.ts';
import { redactQuery } from '@mythoughts/runtime/http/redaction';

/** Where finished lines go: anything with a `write(string)` (a pino destination, the logger's stream). */
interface LineSink {
  write(line: string): unknown;
  flush?(): void;
}

/**
 * The access log: one JSON line per exchange, in the shape of the gateway's pino lines
 * (`level`, `time`, `pid`, `hostname`, `name`, `msg: "request"`), written as one string:
 * no line object, no serializer, no redaction pass over an object (it is the single largest
 * per-request cost otherwise). No header is ever logged, and a query string is logged with
 * the values of secret parameters replaced (the shared list, packages/runtime/src/http/redaction.ts).
 * The lines of one turn of the event loop go to the sink as one write at the end of that
 * turn (or at 16 KiB): under load that is one write for many requests instead of one each.
 */
export class AccessLog {
  private readonly prefix: string;
  private readonly suffix: string;
  private readonly timer: NodeJS.Timeout | null = null;
  /** Lines of this turn of the event loop not yet given to the sink. */
  private pending = '';
  private flushQueued = false;

  private constructor(
    private readonly sink: LineSink,
    /** The logger's level filter: null, every line; else whether `info` lines are wanted. */
    private readonly enabled: () => boolean,
    ownsSink: boolean,
  ) {
    this.prefix = `{"level":30,"time":`;
    this.suffix = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())},"name":"gateway","msg":"request"}\n`;
    if (ownsSink) {
      // Lines are written in batches of a few KiB; a quiet gateway still shows them within a second.
      this.timer = setInterval(() => sink.flush?.(), 1_000);
      this.timer.unref();
    }
  }

  /** Lines appended to `file`, asynchronously, in batches. */
  static toFile(file: string): AccessLog {
    return new AccessLog(pino.destination({ dest: file, sync: false, mkdir: true, append: true, minLength: 4096 }), () => true, true);
  }

  /** Lines written into the logger's own stream (stdout, or the test's destination), at its info level. */
  static throughLogger(logger: Logger): AccessLog {
    const stream = (logger as unknown as Record<symbol, LineSink>)[pino.symbols.streamSym]!;
    return new AccessLog(stream, () => logger.isLevelEnabled('info'), false);
  }

  write(exchange: Exchange, status: number, durationMs: number, incomplete: boolean): void {
    if (!this.enabled()) return;
    let line = `${this.prefix}${Date.now()},"reqId":${jsonString(exchange.requestId)},"method":${jsonString(exchange.method)},"path":${jsonString(exchange.path)}`;
    if (exchange.query !== '') line += `,"query":${jsonString(redactQuery(exchange.query))}`;
    line += `,"route":"${exchange.routeName}","backend":"${exchange.backendName}","decision":"${exchange.decision}","status":${status},"durationMs":${round(durationMs)}`;
    line += `,"upstreamMs":${exchange.upstreamMs < 0 ? 'null' : round(exchange.upstreamMs)},"attempts":${exchange.attempts}`;
    const trace = exchange.trace;
    // Lower-case hex from the trace context parser or the SDK: nothing to escape.
    if (trace !== null) line += trace.spanId === '' ? `,"trace_id":"${trace.traceId}"` : `,"trace_id":"${trace.traceId}","span_id":"${trace.spanId}"`;
    if (exchange.failure !== null) line += `,"failure":${jsonString(exchange.failure)}`;
    const refused = exchange.routing?.overrideRefused;
    if (refused) line += `,"overrideRefused":${jsonString(refused)}`;
    if (incomplete) line += ',"incomplete":true';
    this.pending += line + this.suffix;
    if (this.pending.length >= BATCH_CHARS) this.flushPending();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(flushAtEndOfTurn, this);
    }
  }

  /** @internal Gives the lines of this turn to the sink. */
  flushPending(): void {
    this.flushQueued = false;
    if (this.pending === '') return;
    const lines = this.pending;
    this.pending = '';
    this.sink.write(lines);
  }

  /** Writes out what is buffered and stops the batch timer (shutdown). */
  close(): void {
    this.flushPending();
    if (this.timer !== null) {
      clearInterval(this.timer);
      this.sink.flush?.();
    }
  }
}

// Route, backend and decision names are validated plain names (config/routesConfig.ts NAME):
// they go in as they are. Request data is escaped, with a fast path for the usual plain text.
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON must escape
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f\ud800-\udfff]/;

const BATCH_CHARS = 16_384;

function flushAtEndOfTurn(log: AccessLog): void {
  log.flushPending();
}

function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
