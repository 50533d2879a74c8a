import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureDevKeys } from '@mythoughts/shared/keys';
import { startService, type RunningService } from '@mythoughts/shared/http/service';
import { monolithService } from '../../legacy-monolith/src/service.ts';
import { usersService } from '../../services/users/src/service.ts';
import { thoughtsService } from '../../services/thoughts/src/service.ts';
import { createDatabase } from './postgres.ts';

export type DatabaseKind = 'sqlite' | 'postgres';

/** The three back ends of MyThoughts, in this process, on one fresh database. */
export interface MyThoughtsSystem {
  database: DatabaseKind;
  legacyUrl: string;
  usersUrl: string;
  thoughtsUrl: string;
  /** The environment the services were started with (DATA_DIR, DATABASE_URL, key files…). */
  env: NodeJS.ProcessEnv;
  privateKeyPem: string;
  publicKeyPem: string;
  stop(): Promise<void>;
}

/** `extraEnv` is added to every service's environment (e.g. the OTEL_* variables of a tracing test). */
export async function startSystem(database: DatabaseKind, postgresAdminUrl?: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<MyThoughtsSystem> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-system-'));
  const keys = await ensureDevKeys(dataDir);
  const env: NodeJS.ProcessEnv = {
    DATA_DIR: dataDir,
    JWT_PRIVATE_KEY_FILE: keys.privateKeyFile,
    JWT_PUBLIC_KEY_FILE: keys.publicKeyFile,
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    LEGACY_PORT: '0',
    USERS_PORT: '0',
    THOUGHTS_PORT: '0',
    SEED_DEMO_DATA: 'true',
    ...extraEnv,
  };
  if (database === 'postgres') {
    if (!postgresAdminUrl) throw new Error('startSystem("postgres") needs the throwaway server URL (inject("postgresAdminUrl"))');
    env.DATABASE_URL = await createDatabase(postgresAdminUrl);
  }
  const started: RunningService[] = [];
  try {
    // The first one migrates and seeds; the others then find the schema in place.
    for (const spec of [monolithService, usersService, thoughtsService]) started.push(await startService(spec, env));
  } catch (error) {
    await Promise.all(started.map((s) => s.close()));
    throw error;
  }
  const [legacy, users, thoughts] = started as [RunningService, RunningService, RunningService];
  return {
    database,
    legacyUrl: legacy.url,
    usersUrl: users.url,
    thoughtsUrl: thoughts.url,
    env,
    privateKeyPem: readFileSync(keys.privateKeyFile, 'utf8'),
    publicKeyPem: readFileSync(keys.publicKeyFile, 'utf8'),
    async stop() {
      await Promise.all(started.map((s) => s.close()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
