import express, { type Express } from 'express';
import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import { sql } from 'kysely';
import { loadServiceConfig, type ServiceConfig, type ServiceConfigSpec } from '../config.ts';
import type { Database } from '../db/connect.ts';
import { prepareDatabase } from '../db/prepare.ts';
import { createLogger, requestLogger } from './logger.ts';
import { closeGracefully, listen, urlOf } from '@mythoughts/runtime/http/listen';
import { createHttpMetrics } from './metrics.ts';
import { requestId } from './requestId.ts';
import { traceRequests } from './tracing.ts';
import { startTracing, type Tracing } from '@mythoughts/runtime/tracing/setup';
import { sendJson } from './api.ts';
import { ConfigError } from '@mythoughts/runtime/errors';

export interface ServiceContext {
  config: ServiceConfig;
  database: Database;
  logger: Logger;
  /** OTLP tracing from the OTEL_* variables; off (no tracer) when they are unset. */
  tracing: Tracing;
}

export interface ServiceSpec extends ServiceConfigSpec {
  name: string;
  /** Adds the service's own routes to an app that already has request ids, logs and metrics. */
  addRoutes(app: Express, context: ServiceContext): void | Promise<void>;
}

export interface RunningService {
  server: Server;
  url: string;
  context: ServiceContext;
  close(): Promise<void>;
}

/**
 * Everything a back-end process shares: configuration, database, request ids, access log,
 * `/metrics`, `/healthz`, `/readyz`, a clear message for a taken port, and a clean stop.
 */
export async function startService(spec: ServiceSpec, env: NodeJS.ProcessEnv = process.env): Promise<RunningService> {
  const config = await loadServiceConfig(spec, env);
  const logger = createLogger(spec.name, env.LOG_LEVEL || undefined);
  const tracing = startTracing(spec.name, env);
  const database = await prepareDatabase(config.database, { seedDemoData: config.seedDemoData, tracer: tracing.tracer });
  const context = { config, database, logger, tracing };
  const app = createServiceApp(spec.name, context);
  await spec.addRoutes(app, context);
  const server: Server = createServer(app);
  let port: number;
  try {
    port = await listen(server, { port: config.port, host: config.host, portVariable: spec.portVariable });
  } catch (error) {
    await database.close();
    await tracing.shutdown();
    throw error;
  }
  const url = urlOf(config.host, port);
  logger.info({ url, database: config.database.kind, tracesTo: tracing.endpoint }, `${spec.name} listening on ${url}`);
  return {
    server,
    url,
    context,
    async close() {
      await closeGracefully(server);
      await database.close();
      await tracing.shutdown(); // the last requests' spans are exported before the process ends
    },
  };
}

function createServiceApp(name: string, { config, database, logger, tracing }: ServiceContext): Express {
  const metrics = createHttpMetrics(name);
  const app = express();
  app.disable('x-powered-by');
  app.set('strict routing', true);
  app.set('case sensitive routing', true);
  setTrustProxy(app, config.trustProxy);
  app.use(requestId(), traceRequests(tracing), requestLogger(logger, tracing.tracer !== null), metrics.middleware, forbidFraming);
  app.get('/metrics', metrics.handler);
  // /livez is Kubernetes' name for the liveness probe, /healthz the older one: both say only
  // that the process answers; /readyz also checks the database.
  app.get(['/livez', '/healthz'], (_req, res) => sendJson(res, 200, { status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    try {
      await sql`select 1`.execute(database.db);
      sendJson(res, 200, { status: 'ready' });
    } catch (error) {
      sendJson(res, 503, { status: 'database unavailable', error: (error as Error).message });
    }
  });
  return app;
}

/**
 * No page of a back end (the monolith's site, Swagger UI) may be shown in another site's
 * frame, where a hidden page could trick a user into clicking its buttons (clickjacking):
 * CSP `frame-ancestors` for today's browsers, X-Frame-Options for older ones.
 */
function forbidFraming(_req: express.Request, res: express.Response, next: express.NextFunction): void {
  res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  next();
}

function setTrustProxy(app: Express, trustProxy: ServiceConfig['trustProxy']): void {
  try {
    app.set('trust proxy', trustProxy);
  } catch (error) {
    throw new ConfigError(
      `TRUST_PROXY must be false, a hop count, or addresses/subnets such as "loopback, 10.0.0.0/8" (got "${String(trustProxy)}"): ${(error as Error).message}`,
    );
  }
}

/** Runs a service as its own process: stops cleanly on SIGTERM and Ctrl-C. */
export async function runServiceProcess(spec: ServiceSpec): Promise<void> {
  const service = await startService(spec);
  const stop = async (signal: string) => {
    service.context.logger.info(`${signal}: finishing open requests`);
    await service.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
