import bcrypt from 'bcryptjs';
import { sql, type Kysely } from 'kysely';
import { randomBytes } from 'node:crypto';
import type { Schema } from '@mythoughts/shared/db/schema';
import { formatTimestamp } from '@mythoughts/shared/timestamps';

/**
 * The monolith's data access: every query it makes, as hand-written SQL, the way the old code
 * base kept its "models" in one place. It runs on the shared connection (SQLite or PostgreSQL,
 * see @mythoughts/shared/db), so each statement sticks to what both databases understand:
 * parameters bound by the `sql` tag, `on conflict`, `returning`, and `lower()` (Unicode-aware on
 * both, see db/connect.ts). The new services have their own stores; only the tables are common.
 */

/** A row of `thoughts`, its columns selected in the order the API answers them. */
export interface ThoughtRecord {
  id: number;
  username: string;
  text: string;
  timestamp: string;
}

export interface UserRecord {
  id: number;
  username: string;
  creation: string;
}

const THOUGHT_COLUMNS = sql.raw('id, username, text, "timestamp"');

/** The API lists oldest first, the HTML pages newest first. */
export type Listing = 'oldest first' | 'newest first';
const ORDER_BY_ID = { 'oldest first': sql.raw('order by id asc'), 'newest first': sql.raw('order by id desc') };
const PASSWORD_ROUNDS = 10;
// Checked when the user does not exist, so that an unknown name costs as long as a wrong password.
const NOBODY_HASH = bcrypt.hashSync('nobody has this password', PASSWORD_ROUNDS);

export class Models {
  constructor(private readonly db: Kysely<Schema>) {}

  // --- thoughts -------------------------------------------------------------------------

  async thoughtsOf(username: string, listing: Listing): Promise<ThoughtRecord[]> {
    const { rows } = await sql<ThoughtRecord>`select ${THOUGHT_COLUMNS} from thoughts where username = ${username} ${ORDER_BY_ID[listing]}`.execute(this.db);
    return rows;
  }

  /**
   * Everyone's thoughts whose text contains `term`, case-insensitively, with `%`, `_` and `\`
   * taken literally; no term (or a blank one) is every thought.
   *
   * Known legacy quirk (docs/api-contract.md, "Known differences"): the term is stripped of
   * surrounding whitespace first, as the old search form's field did, so `?search=now%20`
   * searches `now`. The new thoughts service searches the term exactly as sent.
   */
  async searchThoughts(term: string | undefined, listing: Listing): Promise<ThoughtRecord[]> {
    const needle = (term ?? '').trim().toLowerCase();
    if (needle === '') {
      return (await sql<ThoughtRecord>`select ${THOUGHT_COLUMNS} from thoughts ${ORDER_BY_ID[listing]}`.execute(this.db)).rows;
    }
    const like = `%${needle.replace(/[\\%_]/g, '\\$&')}%`;
    const { rows } = await sql<ThoughtRecord>`select ${THOUGHT_COLUMNS} from thoughts
      where lower(text) like ${like} escape '\\' ${ORDER_BY_ID[listing]}`.execute(this.db);
    return rows;
  }

  async thought(id: number): Promise<ThoughtRecord | undefined> {
    const { rows } = await sql<ThoughtRecord>`select ${THOUGHT_COLUMNS} from thoughts where id = ${id}`.execute(this.db);
    return rows[0];
  }

  async addThought(username: string, text: string): Promise<ThoughtRecord> {
    const { rows } = await sql<ThoughtRecord>`insert into thoughts (username, text, "timestamp")
      values (${username}, ${text}, ${formatTimestamp(new Date())}) returning ${THOUGHT_COLUMNS}`.execute(this.db);
    return rows[0]!;
  }

  async removeThought(id: number): Promise<void> {
    await sql`delete from thoughts where id = ${id}`.execute(this.db);
  }

  // --- users ----------------------------------------------------------------------------

  /** The new user, or undefined when the name is taken. Only a bcrypt hash of the password is kept. */
  async addUser(username: string, password: string): Promise<UserRecord | undefined> {
    const hash = await bcrypt.hash(password, PASSWORD_ROUNDS);
    const { rows } = await sql<UserRecord>`insert into users (username, password_hash, creation)
      values (${username}, ${hash}, ${formatTimestamp(new Date())})
      on conflict (username) do nothing returning id, username, creation`.execute(this.db);
    return rows[0];
  }

  async passwordMatches(username: string, password: string): Promise<boolean> {
    const { rows } = await sql<{ password_hash: string }>`select password_hash from users where username = ${username}`.execute(this.db);
    const ok = await bcrypt.compare(password, rows[0]?.password_hash ?? NOBODY_HASH);
    return ok && rows.length === 1;
  }

  // --- HTML sessions --------------------------------------------------------------------

  /** A new session for the user, ending their older one and sweeping expired ones. */
  async openSession(username: string, lifetimeSeconds: number): Promise<string> {
    const now = new Date();
    const session = randomBytes(32).toString('base64url');
    const expires = new Date(now.getTime() + lifetimeSeconds * 1000).toISOString();
    await this.db.transaction().execute(async (tx) => {
      await sql`delete from sessions where username = ${username} or expires <= ${now.toISOString()}`.execute(tx);
      await sql`insert into sessions (session, username, expires) values (${session}, ${username}, ${expires})`.execute(tx);
    });
    return session;
  }

  async sessionUser(session: string): Promise<string | undefined> {
    const { rows } = await sql<{ username: string }>`select username from sessions
      where session = ${session} and expires > ${new Date().toISOString()}`.execute(this.db);
    return rows[0]?.username;
  }

  async closeSession(session: string): Promise<void> {
    await sql`delete from sessions where session = ${session}`.execute(this.db);
  }

  // --- failed logins (see loginGuard.ts for the rules) --------------------------------------

  /** The latest `locked_until` of these keys ('' when none is locked). */
  async lockedUntil(keys: readonly string[]): Promise<string> {
    const { rows } = await sql<{ until: string | null }>`select max(locked_until) as until from login_failures
      where "key" in (${sql.join(keys)})`.execute(this.db);
    return rows[0]?.until ?? '';
  }

  /** Counts one more failure for the key (from 1 again when the last is older than `windowStart`); the new count. */
  async countFailure(key: string, at: string, windowStart: string): Promise<number> {
    const { rows } = await sql<{ failures: number }>`insert into login_failures ("key", failures, last_failure, locked_until)
      values (${key}, 1, ${at}, '')
      on conflict ("key") do update set
        failures = case when login_failures.last_failure < ${windowStart} then 1 else login_failures.failures + 1 end,
        last_failure = excluded.last_failure
      returning failures`.execute(this.db);
    return Number(rows[0]!.failures);
  }

  async lock(key: string, until: string): Promise<void> {
    await sql`update login_failures set locked_until = ${until} where "key" = ${key}`.execute(this.db);
  }

  async forgetFailures(key: string): Promise<void> {
    await sql`delete from login_failures where "key" = ${key}`.execute(this.db);
  }

  /** Counts that have aged out and hold no lock. */
  async purgeFailures(windowStart: string, now: string): Promise<void> {
    await sql`delete from login_failures where last_failure < ${windowStart} and locked_until < ${now}`.execute(this.db);
  }
}
