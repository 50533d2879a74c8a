import { timingSafeEqual } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Registry } from 'prom-client';

export interface AdminDeps {
  readonly registry: Registry;
  /** Null when the admin port is loopback-only, which is then its protection. */
  readonly token: string | null;
  readonly ready: () => boolean;
}

/**
 * The gateway's own endpoints, on a separate port (Express is fine here: this is not the
 * proxied path). /healthz = the process answers; /readyz = it has a plan and is not shutting
 * down; /metrics = Prometheus. With a token configured, everything but the probes needs
 * `Authorization: Bearer <token>`.
 */
export function createAdminApp(deps: AdminDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    if (deps.ready()) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'shutting down' });
  });
  if (deps.token !== null) app.use(requireToken(deps.token));
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.registry.contentType);
    res.end(await deps.registry.metrics());
  });
  app.use((_req, res) => {
    res.status(404).json({ message: 'Not found: the admin port serves /metrics, /healthz and /readyz' });
  });
  return app;
}

function requireToken(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return (req: Request, res: Response, next: NextFunction) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.status(401).json({ message: 'Unauthorized: send Authorization: Bearer <GATEWAY_ADMIN_TOKEN>' });
  };
}
