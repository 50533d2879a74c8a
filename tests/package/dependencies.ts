/**
 * What a team putting the gateway in front of their own system must never have to install:
 * database drivers and query builders, password hashing. The back ends need them; the
 * gateway and the runtime package it ships with must not.
 */
export const BACK_END_ONLY_PACKAGES: readonly string[] = [
  'better-sqlite3',
  'sqlite3',
  'pg',
  'pg-native',
  'postgres',
  'mysql2',
  'kysely',
  'knex',
  'bcrypt',
  'bcryptjs',
];
