import bcrypt from 'bcryptjs';
import type { Kysely } from 'kysely';
import type { Schema } from '@mythoughts/shared/db/schema';
import { formatTimestamp } from '@mythoughts/shared/timestamps';

export interface PublicUser {
  id: number;
  username: string;
  creation: string;
}

const BCRYPT_COST = 10;
// Compared against when the user does not exist, so a wrong username costs as long as a wrong password.
const ABSENT_USER_HASH = bcrypt.hashSync('no such user', BCRYPT_COST);

/** The users service's data access, on the monolith's `users` table, through Kysely's query builder. */
export class UserStore {
  constructor(private readonly db: Kysely<Schema>) {}

  /** The new user, or null when the username is taken. Passwords are stored as bcrypt hashes only. */
  async create(username: string, password: string, now: Date = new Date()): Promise<PublicUser | null> {
    const password_hash = await bcrypt.hash(password, BCRYPT_COST);
    const row = await this.db
      .insertInto('users')
      .values({ username, password_hash, creation: formatTimestamp(now) })
      .onConflict((conflict) => conflict.column('username').doNothing())
      .returning(['id', 'username', 'creation'])
      .executeTakeFirst();
    return row ?? null;
  }

  /** True when the user exists and the password matches its hash. */
  async checkPassword(username: string, password: string): Promise<boolean> {
    const row = await this.db.selectFrom('users').select('password_hash').where('username', '=', username).executeTakeFirst();
    const matches = await bcrypt.compare(password, row?.password_hash ?? ABSENT_USER_HASH);
    return matches && row !== undefined;
  }
}
