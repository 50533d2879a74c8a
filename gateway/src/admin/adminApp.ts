import { timingSafeEqual } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import type { FleetView } from '../fleet/fleetView.ts';
import type { ShadowFindings } from '../shadow/shadowMirror.ts';
import type { AdminHostPolicy } from './adminAccess.ts';
import { dashboardFiles, securityHeaders } from './dashboardFiles.ts';
import { createMismatchRouter } from './mismatchRouter.ts';
import { createOpsApi, type OpsDeps } from './opsApi.ts';
import { createRolloutApi } from './rolloutApi.ts';
import type { RolloutControl } from '../rollout/rolloutControl.ts';

/** Where /metrics comes from: a prom-client Registry, or the cluster primary's aggregate of its workers. */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
}

export interface AdminDeps {
  readonly registry: MetricsSource;
  /** Which Host and Origin names may reach everything but the probes (DNS rebinding). */
  readonly hosts: AdminHostPolicy;
  /** Null when the admin port is loopback-only, which is then its protection. */
  readonly token: string | null;
  /** Why the gateway should get no traffic now (shutting down, not listening), or null when ready. */
  readonly notReady: () => string | null;
  /** The admin API and dashboard; without it the port serves only probes and metrics. */
  readonly ops?: Omit<OpsDeps, 'tokenRequired'>;
  readonly logger?: Logger;
  /** Shadow mismatches and noise, served at /api/shadow/mismatches. */
  readonly shadowFindings?: ShadowFindings;
  /** On the etcd store: the fleet, whose numbers /api/stats, /api/fleet and /api/shadow/mismatches then show. */
  readonly fleet?: FleetView | null;
  /** The rollout controller, served at /api/rollout (null: GATEWAY_ROLLOUT=off). */
  readonly rollout?: RolloutControl | null;
  /** Without `ops`: why the rest of /api is not here, answered with its 404 (the dashboard shows it and draws only the rollouts). */
  readonly noOpsApi?: string;
}

/**
 * The gateway's own endpoints, on a separate port (Express is fine here: this is not the
 * proxied path). /livez (alias /healthz) = the process answers; /readyz = it has a plan, its
 * public port listens and it is not shutting down; / = the dashboard (static files, no data); /metrics = Prometheus; /api = the admin
 * API. Everything but the probes answers only requests naming the port's own address as Host
 * (AdminHostPolicy); with a token configured, /metrics and /api need `Authorization: Bearer <token>`.
 */
export function createAdminApp(deps: AdminDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(securityHeaders);
  // Kubernetes' probe names: /livez only says the process answers (no dependency checks, so
  // a slow back end never gets the gateway restarted); /healthz is the older name of it.
  app.get(['/livez', '/healthz'], (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const reason = deps.notReady();
    if (reason === null) res.json({ status: 'ready' });
    else res.status(503).json({ status: 'not ready', reason });
  });
  app.use(deps.hosts.middleware);
  if (deps.ops || deps.rollout) app.use(dashboardFiles());
  if (deps.token !== null) app.use(requireToken(deps.token));
  app.get('/metrics', async (_req, res) => {
    res.setHeader('Content-Type', deps.registry.contentType);
    res.end(await deps.registry.metrics());
  });
  if (deps.shadowFindings) {
    const ops = deps.ops;
    app.use('/api/shadow', createMismatchRouter(deps.shadowFindings, ops ? () => ops.plan().table : null, deps.fleet ?? null));
  }
  if (deps.rollout) app.use('/api/rollout', createRolloutApi(deps.rollout, deps.token !== null));
  if (deps.ops) app.use('/api', createOpsApi({ ...deps.ops, fleet: deps.fleet ?? null, tokenRequired: deps.token !== null }));
  else if (deps.noOpsApi) {
    const message = deps.noOpsApi;
    app.use('/api', (_req, res) => {
      res.status(404).json({ status: 404, message });
    });
  }
  app.use((_req, res) => {
    res.status(404).json({ status: 404, message: 'Not found: the admin port serves / (dashboard), /api, /metrics, /livez, /healthz and /readyz' });
  });
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    deps.logger?.error({ err: error }, 'admin request failed');
    res.status(500).json({ status: 500, message: `internal error: ${error.message}` });
  });
  return app;
}

function requireToken(token: string) {
  const expected = Buffer.from(`Bearer ${token}`);
  return (req: Request, res: Response, next: NextFunction) => {
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return next();
    res.status(401).json({ status: 401, message: 'Unauthorized: send Authorization: Bearer <GATEWAY_ADMIN_TOKEN>' });
  };
}
