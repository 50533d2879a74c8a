import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type TextMapPropagator,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
} from '@opentelemetry/semantic-conventions';
import { httpServerAttributes, methodAttributes, spanMethod } from '@mythoughts/runtime/tracing/httpAttributes';
import type { Tracing } from '@mythoughts/runtime/tracing/setup';
import { parseTraceParent } from '@opentelemetry/core';
import type { Backend } from '../config/routeTable.ts';
import type { Exchange, ExchangeTrace } from '../exchange.ts';

/** The gateway's own span attributes, beside the HTTP semantic conventions. */
const GATEWAY_ATTRIBUTES = {
  route: 'gateway.route',
  backend: 'gateway.backend',
  /** weight | override | fallback (replayed after a failure) | ejected (sent to the fallback before any attempt) */
  decision: 'gateway.decision',
  attempts: 'gateway.attempts',
  attempt: 'gateway.attempt',
  shadowed: 'gateway.shadowed',
  shadow: 'gateway.shadow',
} as const;

/** A traced exchange: the gateway's server span, the attempt in flight, and the ids for the access log. */
class TracedExchange implements ExchangeTrace {
  readonly traceId: string;
  readonly spanId: string;
  /** The client span of the attempt in flight, ended when the next one starts or the exchange ends. */
  attempt: Span | null = null;
  shadowed = false;

  constructor(
    readonly span: Span,
    readonly context: Context,
  ) {
    ({ traceId: this.traceId, spanId: this.spanId } = span.spanContext());
  }
}

/**
 * The gateway's part of a trace: a server span per request, continuing the client's
 * `traceparent` (or starting a trace), a client span per attempt to a back end (a fallback
 * retry is a second one) whose context the back end receives as its `traceparent`, and a
 * span of its own for a shadow copy, linked to the request's. Exists only when tracing is on:
 * with it off the hot path holds null and does no tracing work at all.
 */
export class RequestTracing {
  private readonly tracer: Tracer;
  private readonly propagator: TextMapPropagator;

  private constructor(tracer: Tracer, propagator: TextMapPropagator) {
    this.tracer = tracer;
    this.propagator = propagator;
  }

  static of(tracing: Tracing): RequestTracing | null {
    return tracing.tracer === null ? null : new RequestTracing(tracing.tracer, tracing.propagator);
  }

  /** The request arrived: its server span, a child of the client's span when it sent one. */
  start(exchange: Exchange, req: IncomingMessage): void {
    const parent = this.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const span = this.tracer.startSpan(spanMethod(exchange.method), { kind: SpanKind.SERVER, attributes: httpServerAttributes(req) }, parent);
    exchange.trace = new TracedExchange(span, trace.setSpan(parent, span));
  }

  /**
   * An attempt is about to go out: its client span, and `traceparent` (with the client's
   * `tracestate`, as the span carries it) set in the headers the back end receives.
   */
  attemptStarted(exchange: Exchange, attempt: { readonly number: number; readonly backend: Backend }, headers: IncomingHttpHeaders): void {
    const traced = exchange.trace;
    if (!(traced instanceof TracedExchange)) return;
    traced.attempt?.end();
    const { backend } = attempt;
    const origin = new URL(backend.origin);
    const span = this.tracer.startSpan(
      spanMethod(exchange.method),
      {
        kind: SpanKind.CLIENT,
        attributes: methodAttributes(exchange.method, {
          [ATTR_SERVER_ADDRESS]: origin.hostname,
          [ATTR_SERVER_PORT]: Number(origin.port || 80),
          [ATTR_URL_FULL]: `${backend.origin}${exchange.path}`,
          [GATEWAY_ATTRIBUTES.backend]: backend.name,
          [GATEWAY_ATTRIBUTES.attempt]: attempt.number,
        }),
      },
      traced.context,
    );
    if (attempt.number > 1) span.setAttribute(ATTR_HTTP_REQUEST_RESEND_COUNT, attempt.number - 1);
    traced.attempt = span;
    // A client's tracestate travels inside the span context (a stale one must not outlive it).
    delete headers.tracestate;
    this.propagator.inject(trace.setSpan(traced.context, span), headers, defaultTextMapSetter);
  }

  /** The attempt's back end answered below 500 (its head arrived). */
  attemptAnswered(exchange: Exchange, status: number): void {
    this.attemptSpan(exchange)?.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
  }

  /** The attempt failed: refused, reset, timeout, or answered 5xx. */
  attemptFailed(exchange: Exchange, reason: string): void {
    const span = this.attemptSpan(exchange);
    if (span === null) return;
    span.setAttribute(ATTR_ERROR_TYPE, reason);
    span.setStatus({ code: SpanStatusCode.ERROR, message: exchange.failure ?? reason });
  }

  /** The client's response is finished or cut: the spans get what the exchange came to, and end. */
  finish(exchange: Exchange, res: ServerResponse): void {
    const traced = exchange.trace;
    if (!(traced instanceof TracedExchange)) return;
    traced.attempt?.end();
    traced.attempt = null;
    const { span } = traced;
    const route = exchange.route;
    span.setAttribute(GATEWAY_ATTRIBUTES.route, exchange.routeName);
    if (route !== null && route.patterns.length === 1) {
      const template = route.patterns[0]!.text;
      span.setAttribute(ATTR_HTTP_ROUTE, template);
      span.updateName(`${spanMethod(exchange.method)} ${template}`);
    }
    span.setAttribute(GATEWAY_ATTRIBUTES.backend, exchange.backendName);
    span.setAttribute(GATEWAY_ATTRIBUTES.decision, exchange.routing?.ejected ? 'ejected' : exchange.decision);
    span.setAttribute(GATEWAY_ATTRIBUTES.attempts, exchange.attempts);
    span.setAttribute(GATEWAY_ATTRIBUTES.shadowed, traced.shadowed);
    if (res.headersSent) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(res.statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR, message: exchange.failure ?? undefined });
      }
    } else {
      span.setAttribute(ATTR_ERROR_TYPE, 'client_closed');
    }
    span.end();
  }

  /**
   * A shadow copy of the request is about to go out: a span of its own, in a trace of its own
   * (the candidate's work is not the client's), linked to the request's span and marked as
   * shadow; `headers` get its `traceparent`. Returns the function that ends it with the
   * outcome, or null when the request is not traced (or not sampled).
   */
  shadowCopy(exchange: Exchange, backend: Backend, headers: Record<string, string>): ShadowSpanEnd | null {
    const traced = exchange.trace;
    if (!(traced instanceof TracedExchange) || !traced.span.isRecording()) return null;
    traced.shadowed = true;
    const span = this.tracer.startSpan(`${spanMethod(exchange.method)} shadow`, {
      kind: SpanKind.CLIENT,
      root: true,
      links: [{ context: traced.span.spanContext(), attributes: { [GATEWAY_ATTRIBUTES.shadow]: true } }],
      attributes: methodAttributes(exchange.method, {
        [ATTR_URL_FULL]: `${backend.origin}${exchange.path}`,
        [GATEWAY_ATTRIBUTES.route]: exchange.routeName,
        [GATEWAY_ATTRIBUTES.backend]: backend.name,
        [GATEWAY_ATTRIBUTES.shadow]: true,
      }),
    });
    delete headers.tracestate;
    this.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), headers, defaultTextMapSetter);
    return (status, failure) => {
      if (status !== null) span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (failure !== null) span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
      span.end();
    };
  }

  private attemptSpan(exchange: Exchange): Span | null {
    const traced = exchange.trace;
    return traced instanceof TracedExchange ? traced.attempt : null;
  }
}

/** Ends a shadow copy's span with what came back: the status, or why there was none. */
export type ShadowSpanEnd = (status: number | null, failure: string | null) => void;

/**
 * The trace headers of a shadow copy (or noise sample): its own span's with tracing on;
 * with tracing off none at all, so a copy never joins the client's trace as a second child.
 */
export function traceShadowCopy(tracing: RequestTracing | null, exchange: Exchange, backend: Backend, headers: Record<string, string>): ShadowSpanEnd | null {
  if (tracing !== null) {
    const end = tracing.shadowCopy(exchange, backend, headers);
    if (end !== null) return end;
  }
  delete headers.traceparent;
  delete headers.tracestate;
  return null;
}

/** With tracing off: the trace id of the client's `traceparent`, for the access log (no span of ours). */
export function clientTrace(traceparent: string | string[]): ExchangeTrace | null {
  const parent = typeof traceparent === 'string' ? parseTraceParent(traceparent) : null;
  return parent === null ? null : { traceId: parent.traceId, spanId: '' };
}
