import type { TestProject } from 'vitest/node';
import { startThrowawayPostgres } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the throwaway PostgreSQL server's maintenance database. */
    postgresAdminUrl: string;
  }
}

/** One PostgreSQL server for the whole run; each test file creates its own databases on it. */
export default async function setup(project: TestProject) {
  const postgres = await startThrowawayPostgres();
  project.provide('postgresAdminUrl', postgres.adminUrl);
  return () => postgres.stop();
}
