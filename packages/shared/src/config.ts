import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.ts';
import { readKeyPair, resolveKeyFiles, type KeyPair } from './keys.ts';

/** The repository root: `data/` and `routes.yaml` are found relative to it by default. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export type DatabaseTarget =
  | { kind: 'sqlite'; file: string }
  | { kind: 'postgres'; url: string };

export interface ServiceConfig {
  port: number;
  host: string;
  dataDir: string;
  database: DatabaseTarget;
  keys: KeyPair;
  /** Load the demo users and thoughts into an empty database (default: on SQLite only). */
  seedDemoData: boolean;
}

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
    seedDemoData: parseBoolean(env.SEED_DEMO_DATA, 'SEED_DEMO_DATA', database.kind === 'sqlite'),
  };
}

export function databaseTarget(env: NodeJS.ProcessEnv, dataDir: string): DatabaseTarget {
  const url = env.DATABASE_URL;
  if (!url) return { kind: 'sqlite', file: path.resolve(env.SQLITE_FILE || path.join(dataDir, 'mythoughts.sqlite')) };
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql:// (got "${redactUrl(url)}"); unset it for the embedded SQLite database`);
  }
  return { kind: 'postgres', url };
}

export function parsePort(value: string | undefined, variable: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${variable} must be a port number from 0 to 65535 (got "${value}")`);
  }
  return port;
}

function parseBoolean(value: string | undefined, variable: string, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes)$/i.test(value)) return true;
  if (/^(0|false|no)$/i.test(value)) return false;
  throw new ConfigError(`${variable} must be true or false (got "${value}")`);
}

/** A connection URL with its password replaced, safe for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}
