import SqliteDatabase from 'better-sqlite3';
import type { Tracer } from '@opentelemetry/api';
import { Kysely, PostgresDialect, SqliteDialect, sql, type KyselyConfig } from 'kysely';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ConfigError } from '@mythoughts/runtime/errors';
import { redactUrl, type DatabaseTarget } from '../config.ts';
import type { Schema } from './schema.ts';
import { traceQueries } from './traceQueries.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<Schema>;
  dialect: Dialect;
  close(): Promise<void>;
}

/**
 * Opens the configured database and checks that it answers, so a bad URL fails at start.
 * With a tracer, each query made for a traced request is a span (see traceQueries).
 */
export async function openDatabase(target: DatabaseTarget, tracer: Tracer | null = null): Promise<Database> {
  const database = target.kind === 'sqlite' ? openSqlite(target.file, tracer) : openPostgres(target.url, tracer);
  try {
    await sql`select 1`.execute(database.db);
  } catch (error) {
    await database.close().catch(() => undefined); // the connect error below is the one to report
    const where = target.kind === 'sqlite' ? target.file : redactUrl(target.url);
    throw new ConfigError(`cannot connect to the ${target.kind} database at ${where}: ${describe(error)}`);
  }
  return database;
}

function openSqlite(file: string, tracer: Tracer | null): Database {
  mkdirSync(path.dirname(file), { recursive: true });
  const connection = new SqliteDatabase(file);
  // Three processes share one file: WAL lets readers run beside the writer, and the busy
  // timeout makes a writer wait for the lock instead of failing with SQLITE_BUSY.
  connection.pragma('journal_mode = WAL');
  connection.pragma('busy_timeout = 5000');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('foreign_keys = ON');
  // SQLite's own lower() folds ASCII only; PostgreSQL's folds Unicode. Replacing it keeps
  // case-insensitive search identical on both databases.
  connection.function('lower', { deterministic: true }, (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value));
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: connection }), ...queryLog(tracer, 'sqlite') });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

function openPostgres(url: string, tracer: Tracer | null): Database {
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5000 });
  // An idle client that loses its server must not crash the process; the next query reports it.
  pool.on('error', (error) => process.stderr.write(`postgres pool: ${error.message}\n`));
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }), ...queryLog(tracer, 'postgres') });
  return { db, dialect: 'postgres', close: () => db.destroy() };
}

/** Kysely times queries only when a log hook is set: none at all without tracing. */
function queryLog(tracer: Tracer | null, dialect: Dialect): Pick<KyselyConfig, 'log'> {
  return tracer === null ? {} : { log: traceQueries(tracer, dialect) };
}

function describe(error: unknown): string {
  const e = error as NodeJS.ErrnoException & { errors?: Error[] };
  if (e?.errors?.length) return e.errors.map((x) => x.message).join('; ');
  return e?.message || e?.code || String(error);
}
