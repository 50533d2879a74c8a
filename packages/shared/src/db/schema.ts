import type { Generated, Selectable } from 'kysely';

/** The monolith's tables, mapped as they are by every service (one shared database). */
export interface Schema {
  users: UsersTable;
  thoughts: ThoughtsTable;
  sessions: SessionsTable;
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
}

export type ThoughtRow = Selectable<ThoughtsTable>;
