import type { NextFunction, Request, Response } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/**
 * HTTP metrics for a service, on its own registry. The route label is the matched route
 * pattern (e.g. `/api/thoughts/:id/`), never the raw path, so cardinality stays bounded.
 */
export function createHttpMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'code'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  function middleware(req: Request, res: Response, next: NextFunction) {
    const stop = duration.startTimer();
    res.on('finish', () => {
      const route = routeLabel(req, res);
      requests.inc({ method: req.method, route, code: String(res.statusCode) });
      stop({ method: req.method, route });
    });
    next();
  }

  async function handler(_req: Request, res: Response) {
    res.setHeader('Content-Type', registry.contentType);
    res.end(await registry.metrics());
  }

  return { registry, middleware, handler };
}

export function routeLabel(req: Request, res: Response): string {
  if (typeof res.locals.routePattern === 'string') return res.locals.routePattern;
  return req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
}
