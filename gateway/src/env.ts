import { readFileSync } from 'node:fs';
import path from 'node:path';
import { envFlag } from '@mythoughts/runtime/env';
import { ConfigError } from '@mythoughts/runtime/errors';
import { resolveCohortSecret } from './decide/cohortSecret.ts';
import { ETCD_ENVIRONMENT_HELP, etcdSettingsFromEnv } from './etcd/etcdSettings.ts';
import { FLEET_ENVIRONMENT_HELP, fleetSettingsFromEnv } from './fleet/fleetSettings.ts';
import type { GatewayOptions } from './gateway.ts';

/**
 * The routes file: the one given (a flag, an argument), else $GATEWAY_ROUTES, else routes.yaml in
 * the working directory (the repo root for `npm start`, the project folder for an installed gateway).
 */
export function routesFileFrom(given: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return given || env.GATEWAY_ROUTES || path.resolve('routes.yaml');
}

export const ENVIRONMENT_HELP = `Environment:
  GATEWAY_ROUTES               routes file (default: routes.yaml in the working directory)
  GATEWAY_PORT                 public port (default 8080)
  GATEWAY_HOST                 public interface (default 0.0.0.0)
  GATEWAY_ADMIN_PORT           admin port: /metrics, /livez (/healthz), /readyz (default 9901)
  GATEWAY_ADMIN_HOST           admin interface (default 127.0.0.1; another one needs GATEWAY_ADMIN_TOKEN)
  GATEWAY_ADMIN_TOKEN          if set, /metrics and /api need Authorization: Bearer <token>
  GATEWAY_ADMIN_HOSTS          with a token: further Host names the admin port answers, comma-separated name[:port]
                               (default: only 127.0.0.1:PORT, localhost:PORT, [::1]:PORT; others get 421)
  GATEWAY_AUDIT_LOG            audit log of shifts and panics (default: routes.audit.jsonl beside the routes file)
  GATEWAY_BACKEND_<NAME>_URL   replaces backend <name>'s url (e.g. GATEWAY_BACKEND_THOUGHTS_URL)
  GATEWAY_OVERRIDE_SECRET      HMAC secret (32+ characters) of X-Gateway-Override tokens (gateway override-token)
  GATEWAY_TRUST_FORWARDED      true: keep client X-Forwarded-* (only behind a trusted proxy)
  GATEWAY_WORKERS              worker processes sharing the public port (node:cluster; default 1 = no cluster)
  GATEWAY_SHUTDOWN_TIMEOUT_MS  bound on finishing in-flight requests at SIGTERM (default 10000)
  GATEWAY_DRAIN_DELAY_MS       at SIGTERM, /readyz answers 503 this long before the public port closes (default 0)
  GATEWAY_ROLLOUT              off: this process runs no rollout controller (another replica or 'gateway rollout run' does; default on;
                               with GATEWAY_WORKERS>1 the primary runs it, never a worker)
  GATEWAY_PROMETHEUS_URL       rollout gates from this Prometheus (the sum over every replica) instead of this process's (workers') metrics
  GATEWAY_ROLLOUT_STATE        the rollouts' progress file (default: routes.rollout.json beside the routes file)
${FLEET_ENVIRONMENT_HELP}
  GATEWAY_COHORT_SECRET        HMAC secret (32+ characters) signing the gw_cohort cookie; the same on every replica
                               (default: a development key in $DATA_DIR/keys/gateway-cohort.key, DATA_DIR defaulting to ./data,
                               made on first start)
  JWT_PUBLIC_KEY_FILE          RS256 public key; enables the jwt:username cohort key
  LOG_LEVEL                    pino level (default info)
Plan store (default: the routes file):
${ETCD_ENVIRONMENT_HELP}
  GATEWAY_PLAN_CACHE           with etcd: local copy of the last good plan, served when etcd is away at start
                               (default: data/plan-cache.yaml under the working directory)
Diagnostic switches (to measure what a feature costs; leave unset in production):
  GATEWAY_ACCESS_LOG           where access lines go: stdout (default, with the other lines), a file path (appended
                               in batches), or off (none)
  GATEWAY_METRICS              off: no per-request counter/histogram (the admin /metrics still answers)`;

/** Gateway options from the environment; a bad value is a ConfigError naming the variable. */
export function optionsFromEnv(env: NodeJS.ProcessEnv): GatewayOptions {
  return {
    routesFile: routesFileFrom(undefined, env),
    port: port(env, 'GATEWAY_PORT', 8080),
    host: env.GATEWAY_HOST || '0.0.0.0',
    adminPort: port(env, 'GATEWAY_ADMIN_PORT', 9901),
    adminHost: env.GATEWAY_ADMIN_HOST || '127.0.0.1',
    adminToken: env.GATEWAY_ADMIN_TOKEN || null,
    adminHosts: (env.GATEWAY_ADMIN_HOSTS ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
    jwtPublicKeyPem: env.JWT_PUBLIC_KEY_FILE ? readKey(env.JWT_PUBLIC_KEY_FILE) : null,
    overrideSecret: env.GATEWAY_OVERRIDE_SECRET || null,
    cohortSecret: resolveCohortSecret(env),
    trustForwarded: envFlag(env, 'GATEWAY_TRUST_FORWARDED', false),
    shutdownTimeoutMs: whole(env, 'GATEWAY_SHUTDOWN_TIMEOUT_MS', 10_000),
    drainDelayMs: whole(env, 'GATEWAY_DRAIN_DELAY_MS', 0),
    accessLog: env.GATEWAY_ACCESS_LOG || undefined,
    requestMetrics: envFlag(env, 'GATEWAY_METRICS', true),
    rollout: envFlag(env, 'GATEWAY_ROLLOUT', true)
      ? { prometheusUrl: env.GATEWAY_PROMETHEUS_URL || null, progressFile: env.GATEWAY_ROLLOUT_STATE || undefined }
      : false,
    planStore: etcdSettingsFromEnv(env),
    planCacheFile: env.GATEWAY_PLAN_CACHE || undefined,
    fleet: fleetSettingsFromEnv(env),
  };
}

/** GATEWAY_WORKERS: how many processes serve the public port (1 = this process, no cluster). */
export function workersFromEnv(env: NodeJS.ProcessEnv): number {
  const workers = whole(env, 'GATEWAY_WORKERS', 1);
  if (workers < 1 || workers > 64) throw new ConfigError(`GATEWAY_WORKERS=${env.GATEWAY_WORKERS} must be from 1 to 64`);
  return workers;
}

export function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const value = whole(env, name, fallback);
  if (value > 65_535) throw new ConfigError(`${name}=${env[name]} is not a port: use a number from 0 to 65535`);
  return value;
}

function whole(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (!/^\d+$/.test(text)) throw new ConfigError(`${name}=${text} is not a whole number`);
  return Number(text);
}

function readKey(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read JWT_PUBLIC_KEY_FILE ${file}: ${(error as Error).message}`);
  }
}
