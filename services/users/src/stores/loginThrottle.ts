import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { LoginThrottleSettings } from '@mythoughts/shared/config';
import type { Schema } from '@mythoughts/shared/db/schema';

/** What a login attempt came to, for the login handler to answer (200, 401 or 429). */
export type LoginVerdict = { readonly outcome: 'ok' } | { readonly outcome: 'wrong' } | { readonly outcome: 'throttled'; readonly retryAfterSeconds: number };

// Locks double with each failure after the first lock, up to this.
const MAX_LOCKOUT_SECONDS = 3600;

/**
 * Password guessing throttled per username and per client address, with the counts in the
 * shared database so that the monolith (which counts the same way, in its own SQL:
 * legacy-monolith/src/loginGuard.ts), the users service and every replica of each agree (the
 * gateway may send one client's attempts to either side). The first failures are
 * ordinary wrong passwords; after `maxFailuresPerUser` for a username (or
 * `maxFailuresPerAddress` from an address) it is locked for `lockoutSeconds`, doubling with
 * each further failure, and attempts are answered "throttled" without checking the password.
 * A successful login clears its username's count; an address's count only ages out, so an
 * attacker cannot clear it by logging in to an account of their own between guesses.
 *
 * Attempts running at the same moment are checked before any of them has failed, so a burst
 * can exceed a limit by the number in flight at once (bounded by bcrypt's cost); counting is
 * atomic (one upsert), so no failure is lost.
 */
export class LoginThrottle {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly settings: LoginThrottleSettings,
  ) {}

  /** Checks the password (with `verify`) unless the username or the address is locked. */
  async attempt(username: string, address: string, verify: () => Promise<boolean>, now: Date = new Date()): Promise<LoginVerdict> {
    const keys = { user: keyOf('user', username), address: keyOf('address', address) };
    const lockedUntil = await this.lockedUntil([keys.user, keys.address]);
    if (lockedUntil > now.toISOString()) return { outcome: 'throttled', retryAfterSeconds: secondsUntil(lockedUntil, now) };
    if (await verify()) {
      await this.db.deleteFrom('login_failures').where('key', '=', keys.user).execute();
      return { outcome: 'ok' };
    }
    await this.recordFailure(keys.user, this.settings.maxFailuresPerUser, now);
    await this.recordFailure(keys.address, this.settings.maxFailuresPerAddress, now);
    await this.purgeStale(now);
    return { outcome: 'wrong' };
  }

  private async lockedUntil(keys: string[]): Promise<string> {
    const rows = await this.db.selectFrom('login_failures').select('locked_until').where('key', 'in', keys).execute();
    return rows.reduce((latest, row) => (row.locked_until > latest ? row.locked_until : latest), '');
  }

  /** One more failure for the key (a fresh count when the last one is older than the window); locks it at the limit. */
  private async recordFailure(key: string, limit: number, now: Date): Promise<void> {
    const at = now.toISOString();
    const windowStart = new Date(now.getTime() - this.settings.failureWindowSeconds * 1000).toISOString();
    const { failures } = await this.db
      .insertInto('login_failures')
      .values({ key, failures: 1, last_failure: at, locked_until: '' })
      .onConflict((conflict) =>
        conflict.column('key').doUpdateSet({
          failures: sql<number>`case when login_failures.last_failure < ${windowStart} then 1 else login_failures.failures + 1 end`,
          last_failure: at,
        }),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    if (failures < limit) return;
    const seconds = Math.min(this.settings.lockoutSeconds * 2 ** (failures - limit), MAX_LOCKOUT_SECONDS);
    const lockedUntil = new Date(now.getTime() + seconds * 1000).toISOString();
    await this.db.updateTable('login_failures').set({ locked_until: lockedUntil }).where('key', '=', key).execute();
  }

  /** Counts that have aged out and are not locked are deleted, so unknown usernames do not pile up. */
  private async purgeStale(now: Date): Promise<void> {
    const windowStart = new Date(now.getTime() - this.settings.failureWindowSeconds * 1000).toISOString();
    await this.db.deleteFrom('login_failures').where('last_failure', '<', windowStart).where('locked_until', '<', now.toISOString()).execute();
  }
}

/** Keys are hashed: the table holds neither usernames nor addresses, and any length fits. */
function keyOf(kind: 'user' | 'address', value: string): string {
  return `${kind}:${createHash('sha256').update(value).digest('hex')}`;
}

function secondsUntil(iso: string, now: Date): number {
  return Math.max(1, Math.ceil((Date.parse(iso) - now.getTime()) / 1000));
}
