import type { Kysely } from 'kysely';
import { randomBytes } from 'node:crypto';
import type { Schema } from '../db/schema.ts';

/**
 * The monolith's server-side HTML sessions: one per user, an opaque random id in the cookie,
 * each ending `lifetimeSeconds` after its login. Expired rows are deleted whenever a session
 * starts, so the table holds only live sessions (and those expired since the last login).
 */
export class SessionStore {
  constructor(
    private readonly db: Kysely<Schema>,
    readonly lifetimeSeconds: number,
  ) {}

  /** Starts a session for the user, ending any older one (logging in again logs out elsewhere). */
  async start(username: string, now: Date = new Date()): Promise<string> {
    const session = randomBytes(32).toString('base64url');
    const expires = new Date(now.getTime() + this.lifetimeSeconds * 1000).toISOString();
    await this.db.transaction().execute(async (tx) => {
      await tx
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('username', '=', username), eb('expires', '<=', now.toISOString())]))
        .execute();
      await tx.insertInto('sessions').values({ session, username, expires }).execute();
    });
    return session;
  }

  /** The session's user, or undefined when there is no such session or it has expired. */
  async username(session: string, now: Date = new Date()): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .select('username')
      .where('session', '=', session)
      .where('expires', '>', now.toISOString())
      .executeTakeFirst();
    return row?.username;
  }

  async end(session: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('session', '=', session).execute();
  }
}
