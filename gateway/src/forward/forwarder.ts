import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { createProxyServer, type ServerOptions } from 'http-proxy-3';
import type { Backend } from '../config/routeTable.ts';
import { SAFE_METHODS } from '../core/httpMethods.ts';
import { exchangeOf, type Exchange } from '../exchange.ts';
import type { AgentPool } from './agents.ts';
import { sendJsonError } from './errorResponse.ts';
import { stripResponseHopByHop } from './headers.ts';

export type UpstreamFailure = 'refused' | 'reset' | 'timeout' | '5xx';

/** What the forwarder reports, for metrics, outlier detection and logs. */
export interface UpstreamEvents {
  failed(exchange: Exchange, backend: Backend, reason: UpstreamFailure): void;
  answered(exchange: Exchange, backend: Backend, status: number): void;
}

/** Our own timer fired: distinguishable from "socket hang up" (which proxyTimeout produces). */
class UpstreamTimeout extends Error {
  constructor(readonly phase: 'connect' | 'response') {
    super(`upstream ${phase} timeout`);
  }
}

const RETRYABLE_STATUS = new Set([502, 503, 504]);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/**
 * Sends a request to a back end with http-proxy-3 and streams the answer back, read top to
 * bottom: attempt → (socket) connect timer → response timer → response head → either a
 * fallback replay or the response streamed to the client. A retry happens at most once, on
 * the route's fallback backend, and only while nothing has been sent to the client and the
 * request is safe to send twice (see canReplay).
 */
export class Forwarder {
  // selfHandleResponse: we write the head ourselves, which is what lets a 502/503/504 from a
  // new backend be replaced by the fallback's answer, and hop-by-hop headers be stripped.
  private readonly proxy = createProxyServer({ selfHandleResponse: true, xfwd: false, ws: false });
  private readonly optionsByBackend = new WeakMap<Backend, ServerOptions>();

  constructor(
    private readonly agents: AgentPool,
    private readonly events: UpstreamEvents,
    private readonly draining: () => boolean,
  ) {
    this.proxy.on('proxyReq', (proxyReq, req, res) => this.onSocket(proxyReq, req, res));
    this.proxy.on('proxyRes', (proxyRes, req, res) => this.onResponse(proxyRes, req, res));
    // Errors arrive through each attempt's callback; this listener only keeps a stray
    // library-level error from crashing the process (http-proxy throws without one).
    this.proxy.on('error', (error, req) => {
      const exchange = exchangeOf(req);
      if (exchange) exchange.failure = `proxy: ${error.message}`;
    });
  }

  forward(exchange: Exchange, req: IncomingMessage, res: ServerResponse, backend: Backend): void {
    exchange.attempts += 1;
    const attempt = exchange.attempts;
    exchange.backend = backend;
    exchange.proxyReq = null;
    exchange.reachedBackend = false;
    exchange.upstreamStartedAt = performance.now();
    exchange.upstreamMs = -1;
    exchange.timer = setTimeout(() => this.onTimeout(exchange, req, res, attempt, 'connect'), backend.connectTimeoutMs);
    const options = this.optionsFor(backend);
    this.proxy.web(req, res, exchange.body === null ? options : { ...options, buffer: Readable.from([exchange.body]) }, (error) =>
      this.onError(exchange, req, res, attempt, error),
    );
  }

  private optionsFor(backend: Backend): ServerOptions {
    let options = this.optionsByBackend.get(backend);
    if (!options) {
      options = Object.freeze({ target: new URL(backend.origin), agent: this.agents.get(backend.origin) });
      this.optionsByBackend.set(backend, options);
    }
    return options;
  }

  /** The attempt got a socket: switch from the connect timer to the response timer once connected. */
  private onSocket(proxyReq: ClientRequest, req: IncomingMessage, res: ServerResponse): void {
    const exchange = exchangeOf(req);
    const backend = exchange?.backend;
    // A request abandoned by a timeout while it waited for a free socket gets one later: drop it.
    if (!exchange || !backend || exchange.finished || exchange.proxyReq !== null || (proxyReq as ClientRequest & { agent?: unknown }).agent !== this.agents.get(backend.origin)) {
      proxyReq.destroy();
      return;
    }
    exchange.proxyReq = proxyReq;
    const attempt = exchange.attempts;
    const socket = proxyReq.socket!;
    const connected = () => {
      if (exchange.attempts !== attempt || exchange.finished) return;
      exchange.reachedBackend = true;
      clearTimeout(exchange.timer!);
      exchange.timer = setTimeout(() => this.onTimeout(exchange, req, res, attempt, 'response'), backend.responseTimeoutMs);
    };
    if (socket.connecting) socket.once('connect', connected);
    else connected();
  }

  private onTimeout(exchange: Exchange, req: IncomingMessage, res: ServerResponse, attempt: number, phase: 'connect' | 'response'): void {
    if (exchange.attempts !== attempt || exchange.finished) return;
    const timeout = new UpstreamTimeout(phase);
    // Destroying the upstream request reports the timeout through the normal error path.
    if (exchange.proxyReq) exchange.proxyReq.destroy(timeout);
    else this.onError(exchange, req, res, attempt, timeout);
  }

  private onError(exchange: Exchange, req: IncomingMessage, res: ServerResponse, attempt: number, error: Error): void {
    if (exchange.attempts !== attempt || exchange.finished) return;
    clearTimeout(exchange.timer!);
    // Once the head is out, a failure shows as the response's close (see onResponse).
    if (res.headersSent) return void res.destroy();
    const backend = exchange.backend!;
    const reason = classify(error, exchange.reachedBackend);
    exchange.failure = `${backend.name}: ${reason} (${error.message})`;
    this.events.failed(exchange, backend, reason);
    if (this.canReplay(exchange, req)) {
      exchange.decision = 'fallback';
      this.forward(exchange, req, res, exchange.route!.fallback!);
    } else if (reason === 'timeout') {
      sendJsonError(res, 504, 'Gateway timeout: the service behind this path did not answer in time', exchange.requestId, this.draining());
    } else {
      sendJsonError(res, 502, 'Bad gateway: the service behind this path could not be reached', exchange.requestId, this.draining());
    }
  }

  private onResponse(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void {
    const exchange = exchangeOf(req);
    if (!exchange || exchange.finished || (proxyRes as IncomingMessage & { req?: ClientRequest }).req !== exchange.proxyReq) {
      proxyRes.resume();
      return;
    }
    clearTimeout(exchange.timer!);
    exchange.upstreamMs = performance.now() - exchange.upstreamStartedAt;
    const backend = exchange.backend!;
    const status = proxyRes.statusCode ?? 502;
    if (status >= 500) this.events.failed(exchange, backend, '5xx');
    else this.events.answered(exchange, backend, status);
    if (RETRYABLE_STATUS.has(status) && this.canReplay(exchange, req)) {
      exchange.failure = `${backend.name}: answered ${status}`;
      proxyRes.resume(); // discard the failed answer, keep the connection reusable
      exchange.decision = 'fallback';
      this.forward(exchange, req, res, exchange.route!.fallback!);
      return;
    }
    // Shadow comparison reads this final answer on the side while it streams (trap 10).
    if (exchange.tap !== null) exchange.tap.capture(backend.name, status, proxyRes.headers, proxyRes, exchange.upstreamMs);
    const headers = proxyRes.headers;
    stripResponseHopByHop(headers);
    if (exchange.setCookie !== null) headers['set-cookie'] = [...(headers['set-cookie'] ?? []), exchange.setCookie];
    headers['x-request-id'] ??= exchange.requestId;
    if (this.draining()) (headers as Record<string, string>).connection = 'close';
    res.writeHead(status, proxyRes.statusMessage, headers);
    // A back end dying mid-body must not leave the client waiting for the rest forever.
    proxyRes.once('close', () => {
      // `finished` is set when the client itself went away first: not the back end's fault.
      if (!proxyRes.complete && !exchange.finished) {
        exchange.failure = `${backend.name}: reset mid-response`;
        this.events.failed(exchange, backend, 'reset');
        res.destroy();
      }
    });
    proxyRes.pipe(res);
  }

  /**
   * Replay on the fallback only when nothing reached the client yet and sending the request
   * twice is harmless: a safe method, or a body kept here that never reached the back end.
   */
  private canReplay(exchange: Exchange, req: IncomingMessage): boolean {
    const fallback = exchange.route?.fallback;
    if (!fallback || fallback === exchange.backend || exchange.attempts > 1 || !exchange.bodyReplayable) return false;
    return SAFE_METHODS.has(req.method!) || !exchange.reachedBackend;
  }

  close(): void {
    this.proxy.removeAllListeners('proxyReq');
  }
}

function classify(error: Error, reachedBackend: boolean): UpstreamFailure {
  if (error instanceof UpstreamTimeout) return 'timeout';
  const code = (error as NodeJS.ErrnoException).code;
  if (!reachedBackend && code !== undefined && UNREACHABLE.has(code)) return 'refused';
  return 'reset';
}
