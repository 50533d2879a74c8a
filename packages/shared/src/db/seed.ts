import bcrypt from 'bcryptjs';
import type { Kysely } from 'kysely';
import { formatTimestamp } from '../timestamps.ts';
import type { Schema } from './schema.ts';

const DEMO_PASSWORD = 'password';
const BCRYPT_COST = 10;

/** The book's demo data: two users and five thoughts, ids 1-5 in this order. */
const DEMO_THOUGHTS = [
  { username: 'bruce', timestamp: '1962-05-11T09:53:41', text: "A few seconds more and we'll know whether we have succeeded or not!" },
  { username: 'bruce', timestamp: '1962-05-11T09:58:23', text: "And now, if you'll excuse me, it's time for the final countdown" },
  {
    username: 'bruce',
    timestamp: '1962-05-11T10:07:13',
    text: 'In a few seconds we will finally learn what happens when the powerful gamma rays are released',
  },
  { username: 'stephen', timestamp: '1963-06-11T19:53:41', text: 'Naturally! All who come to me are! Speak...' },
  { username: 'stephen', timestamp: '1963-06-11T19:58:23', text: 'Tonight I shall visit you! I shall find the answer to your dream! Now go' },
] as const;

/** Loads the demo data into an empty database; a database with any user is left alone. */
export async function seedDemoData(db: Kysely<Schema>): Promise<boolean> {
  const anyUser = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (anyUser) return false;
  const creation = formatTimestamp(new Date());
  for (const username of ['bruce', 'stephen']) {
    // Hashed as both sides hash a new user's password (bcrypt, never plain text).
    await db
      .insertInto('users')
      .values({ username, password_hash: await bcrypt.hash(DEMO_PASSWORD, BCRYPT_COST), creation })
      .execute();
  }
  for (const thought of DEMO_THOUGHTS)
    await db
      .insertInto('thoughts')
      .values({ ...thought })
      .execute();
  return true;
}
