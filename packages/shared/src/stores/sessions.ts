import type { Kysely } from 'kysely';
import { randomBytes } from 'node:crypto';
import type { Schema } from '../db/schema.ts';

/** The monolith's server-side HTML sessions: one per user, an opaque random id in the cookie. */
export class SessionStore {
  constructor(private readonly db: Kysely<Schema>) {}

  /** Starts a session for the user, ending any older one (logging in again logs out elsewhere). */
  async start(username: string): Promise<string> {
    const session = randomBytes(32).toString('base64url');
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('sessions').where('username', '=', username).execute();
      await tx.insertInto('sessions').values({ session, username }).execute();
    });
    return session;
  }

  async username(session: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('sessions').select('username')
      .where('session', '=', session)
      .executeTakeFirst();
    return row?.username;
  }

  async end(session: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('session', '=', session).execute();
  }
}
