import { createHash } from 'node:crypto';
import type { LoginThrottleSettings } from '@mythoughts/shared/config';
import type { Models } from './models.ts';

/** How a login attempt went, for the API (401/429) and the HTML form (message) to answer. */
export type LoginResult = { kind: 'ok' } | { kind: 'wrong' } | { kind: 'locked'; retryAfter: number };

const LONGEST_LOCK_SECONDS = 60 * 60;

/**
 * Password guessing throttled per username and per client address, for the site's login form
 * and the API's alike. The counts sit in the shared `login_failures` table, keyed by a SHA-256
 * of `user:<name>` / `address:<ip>`, so the users service (which counts the same way) and
 * every monolith process see one budget: after `maxFailuresPerUser` (or `maxFailuresPerAddress`)
 * failures the key is locked for `lockoutSeconds`, doubled by each further failure up to an
 * hour, and a locked attempt is refused without looking at the password. A good password
 * clears the username's count; an address's count only ages out.
 */
export function loginGuard(models: Models, limits: LoginThrottleSettings) {
  return async function tryLogin(username: string, password: string, address: string): Promise<LoginResult> {
    const now = new Date();
    const userKey = hashedKey('user', username);
    const addressKey = hashedKey('address', address);
    const until = await models.lockedUntil([userKey, addressKey]);
    if (until > now.toISOString()) {
      return { kind: 'locked', retryAfter: Math.max(1, Math.ceil((Date.parse(until) - now.getTime()) / 1000)) };
    }
    if (await models.passwordMatches(username, password)) {
      await models.forgetFailures(userKey);
      return { kind: 'ok' };
    }
    const windowStart = new Date(now.getTime() - limits.failureWindowSeconds * 1000).toISOString();
    for (const [key, limit] of [
      [userKey, limits.maxFailuresPerUser],
      [addressKey, limits.maxFailuresPerAddress],
    ] as const) {
      const failures = await models.countFailure(key, now.toISOString(), windowStart);
      if (failures < limit) continue;
      const seconds = Math.min(limits.lockoutSeconds * 2 ** (failures - limit), LONGEST_LOCK_SECONDS);
      await models.lock(key, new Date(now.getTime() + seconds * 1000).toISOString());
    }
    await models.purgeFailures(windowStart, now.toISOString());
    return { kind: 'wrong' };
  };
}

export type TryLogin = ReturnType<typeof loginGuard>;

function hashedKey(kind: 'user' | 'address', value: string): string {
  return kind + ':' + createHash('sha256').update(value).digest('hex');
}

/** The words of a refused (locked) login, on the API and on the login page. */
export function lockedMessage(retryAfter: number): string {
  return `Too many failed logins for this username or from this address: try again in ${retryAfter} seconds`;
}
