import type { Tracer } from '@opentelemetry/api';
import type { DatabaseTarget } from '../config.ts';
import { openDatabase, type Database } from './connect.ts';
import { migrateToLatest } from './migrations.ts';
import { seedDemoData } from './seed.ts';

/** Opens the database, brings its schema up to date and, when asked, seeds an empty one. */
export async function prepareDatabase(target: DatabaseTarget, options: { seedDemoData: boolean; tracer?: Tracer | null }): Promise<Database> {
  const database = await openDatabase(target, options.tracer ?? null);
  await migrateToLatest(database.db, database.dialect);
  if (options.seedDemoData) await seedDemoData(database.db);
  return database;
}
