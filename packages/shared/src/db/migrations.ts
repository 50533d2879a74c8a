import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { ConfigError } from '@mythoughts/runtime/errors';
import type { Dialect } from './connect.ts';

/**
 * The schema, versioned. Text timestamps and explicit lengths keep both databases
 * answering byte for byte alike; only the id column type differs by dialect.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  const id = dialect === 'postgres' ? 'serial' : 'integer';
  return {
    '0001_initial': {
      async up(db) {
        await db.schema
          .createTable('users')
          .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('username', 'varchar(50)', (c) => c.notNull().unique())
          .addColumn('password_hash', 'varchar(100)', (c) => c.notNull())
          .addColumn('creation', 'varchar(32)', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('thoughts')
          .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('username', 'varchar(50)', (c) => c.notNull())
          .addColumn('text', 'varchar(250)', (c) => c.notNull())
          .addColumn('timestamp', 'varchar(32)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('thoughts_username_idx').on('thoughts').column('username').execute();
        await db.schema
          .createTable('sessions')
          .addColumn('id', id, (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
          .addColumn('session', 'varchar(64)', (c) => c.notNull().unique())
          .addColumn('username', 'varchar(50)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('sessions_username_idx').on('sessions').column('username').execute();
      },
    },
    // Session lifetimes and login throttling. Times are ISO-8601 UTC with milliseconds and `Z`
    // (Date#toISOString: fixed width), so comparing them as text compares them as times.
    '0002_session_expiry_login_failures': {
      async up(db) {
        // Sessions from before lifetimes existed get '' (already expired): their users log in again.
        await db.schema
          .alterTable('sessions')
          .addColumn('expires', 'varchar(32)', (c) => c.notNull().defaultTo(''))
          .execute();
        await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires').execute();
        await db.schema
          .createTable('login_failures')
          .addColumn('key', 'varchar(80)', (c) => c.primaryKey())
          .addColumn('failures', 'integer', (c) => c.notNull())
          .addColumn('last_failure', 'varchar(32)', (c) => c.notNull())
          .addColumn('locked_until', 'varchar(32)', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('login_failures_last_failure_idx').on('login_failures').column('last_failure').execute();
      },
    },
  };
}

class StaticMigrations implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations() {
    return migrations(this.dialect);
  }
}

/** Brings the schema up to date; safe to call on every start. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations run on the schema the database has, not on today's types (Kysely's Migrator takes Kysely<any>)
export async function migrateToLatest(db: Kysely<any>, dialect: Dialect): Promise<void> {
  const migrator = new Migrator({ db, provider: new StaticMigrations(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new ConfigError(`database migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}
