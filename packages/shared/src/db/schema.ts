import type { Generated, Selectable } from 'kysely';

/** The monolith's tables, mapped as they are by every service (one shared database). */
export interface Schema {
  users: UsersTable;
  thoughts: ThoughtsTable;
  sessions: SessionsTable;
  login_failures: LoginFailuresTable;
}

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  /** naive ISO-8601 UTC, see timestamps.ts */
  creation: string;
}

export interface ThoughtsTable {
  id: Generated<number>;
  username: string;
  text: string;
  timestamp: string;
}

export interface SessionsTable {
  id: Generated<number>;
  session: string;
  username: string;
  /** ISO-8601 UTC (toISOString): the session ends then. */
  expires: string;
}

/** Failed logins per key (`user:<sha256>` or `address:<sha256>`), shared by every process. */
export interface LoginFailuresTable {
  key: string;
  failures: number;
  /** ISO-8601 UTC (toISOString) */
  last_failure: string;
  /** ISO-8601 UTC (toISOString); '' or a past time when not locked */
  locked_until: string;
}

export type ThoughtRow = Selectable<ThoughtsTable>;
