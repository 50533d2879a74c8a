import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envFlag } from '@mythoughts/runtime/env';
import { ConfigError } from '@mythoughts/runtime/errors';
import { readKeyPair, resolveKeyFiles, type KeyPair } from './keys.ts';

/** The repository root: `data/` and `routes.yaml` are found relative to it by default. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export type DatabaseTarget = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export interface ServiceConfig {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseTarget;
  keys: KeyPair;
  /** Load the demo users and thoughts into an empty database (default: on SQLite only). */
  seedDemoData: boolean;
  /** Express's `trust proxy`: which peers' X-Forwarded-For names the client (login throttling per address). */
  trustProxy: string | number | boolean;
  /** How long an HTML site session lasts from its login (the cookie's Max-Age says the same). */
  sessionLifetimeSeconds: number;
  login: LoginThrottleSettings;
}

/** Login throttling (the monolith's loginGuard.ts, the users service's stores/loginThrottle.ts): failed logins counted per username and per address. */
export interface LoginThrottleSettings {
  /** Failed logins for one username, in a row within the window, before it is locked. */
  maxFailuresPerUser: number;
  /** Failed logins from one address, for any usernames, within the window, before it is locked. */
  maxFailuresPerAddress: number;
  /** Failures further apart than this start the count again. */
  failureWindowSeconds: number;
  /** The first lock's length; each further failure after a lock doubles it, up to an hour. */
  lockoutSeconds: number;
}

/** The defaults, named here so that the README and the code cannot disagree. */
const DEFAULT_SESSION_LIFETIME_SECONDS = 2 * 24 * 3600; // as long as an API token
const DEFAULT_LOGIN_THROTTLE: LoginThrottleSettings = Object.freeze({
  maxFailuresPerUser: 5,
  maxFailuresPerAddress: 20,
  failureWindowSeconds: 15 * 60,
  lockoutSeconds: 60,
});
// Loopback and private networks: the gateway on this machine, in compose or in a cluster.
const DEFAULT_TRUST_PROXY = 'loopback, linklocal, uniquelocal';

export interface ServiceConfigSpec {
  portVariable: string;
  defaultPort: number;
  /** Signers (users service, monolith) need the private key; verifiers only the public one. */
  needsPrivateKey: boolean;
}

export async function loadServiceConfig(spec: ServiceConfigSpec, env: NodeJS.ProcessEnv = process.env): Promise<ServiceConfig> {
  const dataDir = path.resolve(env.DATA_DIR || path.join(REPO_ROOT, 'data'));
  const database = databaseTarget(env, dataDir);
  const keys = readKeyPair(await resolveKeyFiles(env, dataDir));
  if (spec.needsPrivateKey && !keys.privateKeyPem) {
    throw new ConfigError('this service signs tokens: set JWT_PRIVATE_KEY_FILE as well as JWT_PUBLIC_KEY_FILE');
  }
  return {
    port: parsePort(env[spec.portVariable], spec.portVariable, spec.defaultPort),
    host: env.HOST || '127.0.0.1',
    dataDir,
    database,
    keys,
    seedDemoData: envFlag(env, 'SEED_DEMO_DATA', database.kind === 'sqlite'),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    sessionLifetimeSeconds: parsePositiveInteger(env, 'SESSION_LIFETIME_SECONDS', DEFAULT_SESSION_LIFETIME_SECONDS),
    login: {
      maxFailuresPerUser: parsePositiveInteger(env, 'LOGIN_MAX_FAILURES_PER_USER', DEFAULT_LOGIN_THROTTLE.maxFailuresPerUser, 'a whole number of failures'),
      maxFailuresPerAddress: parsePositiveInteger(
        env,
        'LOGIN_MAX_FAILURES_PER_ADDRESS',
        DEFAULT_LOGIN_THROTTLE.maxFailuresPerAddress,
        'a whole number of failures',
      ),
      failureWindowSeconds: parsePositiveInteger(env, 'LOGIN_FAILURE_WINDOW_SECONDS', DEFAULT_LOGIN_THROTTLE.failureWindowSeconds),
      lockoutSeconds: parsePositiveInteger(env, 'LOGIN_LOCKOUT_SECONDS', DEFAULT_LOGIN_THROTTLE.lockoutSeconds),
    },
  };
}

/** A positive whole number from the environment: seconds, or a count (`what` says which). */
function parsePositiveInteger(env: NodeJS.ProcessEnv, variable: string, fallback: number, what = 'a whole number of seconds'): number {
  const value = env[variable];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new ConfigError(`${variable} must be ${what}, at least 1 (got "${value}")`);
  return number;
}

/** `TRUST_PROXY`: `false` (use the socket's address), a hop count, or addresses/subnets as Express reads them. */
function parseTrustProxy(value: string | undefined): string | number | boolean {
  if (value === undefined || value === '') return DEFAULT_TRUST_PROXY;
  if (/^(false|no|0)$/i.test(value)) return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

export function databaseTarget(env: NodeJS.ProcessEnv, dataDir: string): DatabaseTarget {
  const url = env.DATABASE_URL;
  if (!url) return { kind: 'sqlite', file: path.resolve(env.SQLITE_FILE || path.join(dataDir, 'mythoughts.sqlite')) };
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql:// (got "${redactUrl(url)}"); unset it for the embedded SQLite database`);
  }
  return { kind: 'postgres', url };
}

function parsePort(value: string | undefined, variable: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${variable} must be a port number from 0 to 65535 (got "${value}")`);
  }
  return port;
}

/** A connection URL with its password replaced, safe for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
