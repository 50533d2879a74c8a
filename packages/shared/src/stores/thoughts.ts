import { sql, type Kysely } from 'kysely';
import type { Schema, ThoughtRow } from '../db/schema.ts';
import { formatTimestamp } from '../timestamps.ts';

export type Thought = ThoughtRow;
export type Order = 'oldest-first' | 'newest-first';

export const MAX_THOUGHT_LENGTH = 250;

/** Thoughts as the API and the site read and write them. The API lists oldest first. */
export class ThoughtStore {
  constructor(private readonly db: Kysely<Schema>) {}

  byUser(username: string, order: Order = 'oldest-first'): Promise<Thought[]> {
    return this.db
      .selectFrom('thoughts')
      .selectAll()
      .where('username', '=', username)
      .orderBy('id', order === 'oldest-first' ? 'asc' : 'desc')
      .execute();
  }

  /**
   * Case-insensitive substring search in which `%`, `_` and `\` match literally. `lower` is
   * the same Unicode-aware function on both databases (see db/connect.ts), so SQLite and
   * PostgreSQL find the same rows.
   */
  search(term: string | undefined, order: Order = 'oldest-first'): Promise<Thought[]> {
    let query = this.db.selectFrom('thoughts').selectAll();
    if (term) {
      const pattern = `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      query = query.where(sql<boolean>`lower(${sql.ref('text')}) like ${pattern} escape '\\'`);
    }
    return query.orderBy('id', order === 'oldest-first' ? 'asc' : 'desc').execute();
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
