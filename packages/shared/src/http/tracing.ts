import type { IncomingMessage } from 'node:http';
import { context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import type { NextFunction, Request, Response } from 'express';
import { httpServerAttributes, spanMethod } from '@mythoughts/runtime/tracing/httpAttributes';
import type { Tracing } from '@mythoughts/runtime/tracing/setup';
import { routeLabel } from './metrics.ts';

/** Probes and scrapes every few seconds would bury the traces that matter: never traced. */
const UNTRACED_PATHS = new Set(['/healthz', '/livez', '/readyz', '/metrics']);

const spans = new WeakMap<IncomingMessage, Span>();

/**
 * A server span per request, continuing the caller's `traceparent` (the gateway's client
 * span, when it sent the request), named and labelled with the route pattern once Express
 * has matched it. The request's handlers run in the span's context, so a database query
 * made for the request becomes its child.
 */
export function traceRequests(tracing: Tracing) {
  const tracer = tracing.tracer;
  return (req: Request, res: Response, next: NextFunction) => {
    if (tracer === null || UNTRACED_PATHS.has(req.path)) return next();
    const parent = tracing.propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const span = tracer.startSpan(spanMethod(req.method), { kind: SpanKind.SERVER, attributes: httpServerAttributes(req) }, parent);
    spans.set(req, span);
    const active = trace.setSpan(parent, span);
    // Body parsers call `next` from the request stream's events, which run in the
    // connection's context: binding the streams keeps the span across them.
    context.bind(active, req);
    context.bind(active, res);
    res.once('close', () => endServerSpan(span, req, res));
    context.with(active, next);
  };
}

function endServerSpan(span: Span, req: Request, res: Response): void {
  const route = routeLabel(req, res);
  if (route !== 'unmatched') {
    span.setAttribute(ATTR_HTTP_ROUTE, route);
    span.updateName(`${spanMethod(req.method)} ${route}`);
  }
  if (res.headersSent) {
    span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
    if (res.statusCode >= 500) {
      span.setAttribute(ATTR_ERROR_TYPE, String(res.statusCode));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
  } else {
    span.setAttribute(ATTR_ERROR_TYPE, 'client_closed');
  }
  span.end();
}

/** `trace_id` and `span_id` of a request's server span, for its log line; empty when not traced. */
export function traceIdsOf(req: IncomingMessage): { trace_id?: string; span_id?: string } {
  const span = spans.get(req);
  if (span === undefined) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}
