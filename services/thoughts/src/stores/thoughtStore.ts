import { sql, type Kysely } from 'kysely';
import type { Schema, ThoughtRow } from '@mythoughts/shared/db/schema';
import { formatTimestamp } from '@mythoughts/shared/timestamps';

export type Thought = ThoughtRow;

/**
 * The thoughts service's data access, on the monolith's `thoughts` table (one database during
 * the migration), through Kysely's query builder. Every list is oldest first, as the API
 * answers it.
 */
export class ThoughtStore {
  constructor(private readonly db: Kysely<Schema>) {}

  byUser(username: string): Promise<Thought[]> {
    return this.db.selectFrom('thoughts').selectAll().where('username', '=', username).orderBy('id', 'asc').execute();
  }

  /**
   * Case-insensitive substring search in which `%`, `_` and `\` match literally, the term taken
   * exactly as sent (whitespace included). `lower` is the same Unicode-aware function on both
   * databases (see db/connect.ts), so SQLite and PostgreSQL find the same rows.
   */
  search(term: string | undefined): Promise<Thought[]> {
    let query = this.db.selectFrom('thoughts').selectAll();
    if (term) {
      const pattern = `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where(sql<boolean>`lower(${sql.ref('text')}) like ${pattern} escape '\\'`);
    }
    return query.orderBy('id', 'asc').execute();
  }

  get(id: number): Promise<Thought | undefined> {
    return this.db.selectFrom('thoughts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  create(username: string, text: string, now: Date = new Date()): Promise<Thought> {
    return this.db
      .insertInto('thoughts')
      .values({ username, text, timestamp: formatTimestamp(now) })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('thoughts').where('id', '=', id).execute();
  }
}
