import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { databaseTarget } from '@mythoughts/shared/config';
import { openDatabase } from '@mythoughts/shared/db/connect';
import { Browser } from '../../legacy-monolith/test/helpers.ts';
import { startSystem, type DatabaseKind, type MyThoughtsSystem } from '../support/system.ts';

/**
 * Password guessing against the real back ends: the monolith's API, its HTML login and the
 * users service count failures together, in the shared database, per username and per
 * address (the address the gateway writes in X-Forwarded-For: each test uses its own). Short
 * locks so that the tests can wait them out; the defaults are in the README.
 */
const LOCKOUT_SECONDS = 2;
const PER_ADDRESS = 8;
const SESSION_SECONDS = 3;

const sleep = (seconds: number) => new Promise((r) => setTimeout(r, seconds * 1000));

for (const database of ['sqlite', 'postgres'] as const satisfies readonly DatabaseKind[]) {
  describe(`login throttling and session lifetime [${database}]`, () => {
    let system: MyThoughtsSystem;
    let address = 0;
    /** A fresh client address for a test, so that tests do not share an address's count. */
    const newAddress = () => `203.0.113.${++address}`;

    beforeAll(async () => {
      system = await startSystem(database, database === 'postgres' ? inject('postgresAdminUrl') : undefined, {
        LOGIN_LOCKOUT_SECONDS: String(LOCKOUT_SECONDS),
        LOGIN_MAX_FAILURES_PER_ADDRESS: String(PER_ADDRESS),
        SESSION_LIFETIME_SECONDS: String(SESSION_SECONDS),
      });
    });
    afterAll(() => system?.stop());

    async function newUser(): Promise<{ username: string; password: string }> {
      const user = { username: `guess${Math.random().toString(36).slice(2, 10)}`, password: 'right-password' };
      const created = await fetch(`${system.legacyUrl}/admin/users/`, { method: 'POST', body: new URLSearchParams(user) });
      expect(created.status).toBe(201);
      return user;
    }

    function apiLogin(baseUrl: string, username: string, password: string, from: string) {
      return fetch(`${baseUrl}/api/login/`, { method: 'POST', body: new URLSearchParams({ username, password }), headers: { 'x-forwarded-for': from } });
    }

    for (const side of ['legacy', 'users'] as const) {
      it(`${side} API: eight wrong passwords, then the right one is 429 with Retry-After; after it the right one works`, async () => {
        const url = side === 'legacy' ? system.legacyUrl : system.usersUrl;
        const { username, password } = await newUser();
        const from = newAddress();
        const statuses: number[] = [];
        for (let i = 0; i < 8; i++) statuses.push((await apiLogin(url, username, 'wrong', from)).status);
        expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
        const refused = await apiLogin(url, username, password, from);
        expect(refused.status).toBe(429);
        const retryAfter = Number(refused.headers.get('retry-after'));
        expect(retryAfter).toBeGreaterThanOrEqual(1);
        expect(retryAfter).toBeLessThanOrEqual(LOCKOUT_SECONDS);
        expect(((await refused.json()) as { message: string }).message).toBe(
          `Too many failed logins for this username or from this address: try again in ${retryAfter} seconds`,
        );
        await sleep(retryAfter + 0.2);
        expect((await apiLogin(url, username, password, from)).status).toBe(200);
        // The success cleared the username's count: the next mistake is an ordinary 401 again.
        expect((await apiLogin(url, username, 'wrong', from)).status).toBe(401);
      });
    }

    it('HTML login: eight wrong passwords, then the right one is a 429 page with Retry-After; after it the right one logs in', async () => {
      const { username, password } = await newUser();
      const browser = new Browser(system.legacyUrl, { 'x-forwarded-for': newAddress() });
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) statuses.push((await browser.logIn(username, 'wrong')).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429, 429]); // the form again, then throttled
      const refused = await browser.logIn(username, password);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(await refused.text()).toContain(`try again in ${retryAfter} seconds`);
      expect(browser.cookies.has('session')).toBe(false);
      await sleep(retryAfter + 0.2);
      const loggedIn = await browser.logIn(username, password);
      expect(loggedIn.status).toBe(302);
      expect(browser.cookies.has('session')).toBe(true);
    });

    it('the monolith, its HTML login and the users service share one count per username', async () => {
      const { username, password } = await newUser();
      const from = newAddress();
      const browser = new Browser(system.legacyUrl, { 'x-forwarded-for': from });
      expect((await apiLogin(system.legacyUrl, username, 'wrong', from)).status).toBe(401);
      expect((await apiLogin(system.usersUrl, username, 'wrong', from)).status).toBe(401);
      expect((await browser.logIn(username, 'wrong')).status).toBe(200);
      expect((await apiLogin(system.usersUrl, username, 'wrong', from)).status).toBe(401);
      expect((await apiLogin(system.legacyUrl, username, 'wrong', from)).status).toBe(401);
      // Five failures in all, on three front doors: every one of them is now closed for this user.
      expect((await apiLogin(system.usersUrl, username, password, from)).status).toBe(429);
      expect((await apiLogin(system.legacyUrl, username, password, newAddress())).status).toBe(429);
      expect((await browser.logIn(username, password)).status).toBe(429);
    });

    it('an address that guesses across many usernames is locked for every username, other addresses are not', async () => {
      const from = newAddress();
      const statuses: number[] = [];
      for (let i = 0; i < PER_ADDRESS; i++) statuses.push((await apiLogin(system.usersUrl, `nobody${i}-${from}`, 'wrong', from)).status);
      expect(statuses).toEqual(Array(PER_ADDRESS).fill(401));
      const { username, password } = await newUser();
      const locked = await apiLogin(system.legacyUrl, username, password, from);
      expect(locked.status).toBe(429);
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await apiLogin(system.legacyUrl, username, password, newAddress())).status).toBe(200);
      // Logging in to an account of one's own does not clear the address's count.
      expect((await apiLogin(system.usersUrl, username, password, from)).status).toBe(429);
    });

    it(`an HTML session ends after SESSION_LIFETIME_SECONDS (${SESSION_SECONDS} s here): cookie Max-Age in step, then logged out`, async () => {
      const { username, password } = await newUser();
      const browser = new Browser(system.legacyUrl, { 'x-forwarded-for': newAddress() });
      const login = await browser.logIn(username, password);
      expect(login.status).toBe(302);
      const cookie = login.headers.getSetCookie().find((line) => line.startsWith('session='))!;
      expect(cookie).toMatch(new RegExp(`; Max-Age=${SESSION_SECONDS}(;|$)`));
      const expires = Date.parse(/; Expires=([^;]+)/.exec(cookie)![1]!);
      expect(Math.abs(expires - (Date.now() + SESSION_SECONDS * 1000))).toBeLessThan(2000);
      expect((await browser.get('/thoughts/')).status).toBe(200);
      await sleep(SESSION_SECONDS + 0.5);
      // A browser would have dropped the cookie by now; one that still sends it is logged out all the same.
      const expired = await browser.get('/thoughts/');
      expect(expired.status).toBe(302);
      expect(expired.headers.get('location')).toBe('/login/');
      // Its row is gone once anyone logs in again.
      const database = await openDatabase(databaseTarget(system.env, system.env.DATA_DIR!));
      try {
        const rowsOf = async (name: string) => (await database.db.selectFrom('sessions').select('expires').where('username', '=', name).execute()).length;
        expect(await rowsOf(username)).toBe(1);
        const other = await newUser();
        expect((await new Browser(system.legacyUrl, { 'x-forwarded-for': newAddress() }).logIn(other.username, other.password)).status).toBe(302);
        expect(await rowsOf(username)).toBe(0);
        expect(await rowsOf(other.username)).toBe(1);
      } finally {
        await database.close();
      }
    });

    it('every back end forbids framing its pages (clickjacking)', async () => {
      for (const url of [`${system.legacyUrl}/login/`, `${system.legacyUrl}/api/thoughts/1/`, `${system.usersUrl}/`, `${system.thoughtsUrl}/`]) {
        const response = await fetch(url);
        expect(response.status, url).toBe(200);
        expect(response.headers.get('content-security-policy'), url).toBe("frame-ancestors 'none'");
        expect(response.headers.get('x-frame-options'), url).toBe('DENY');
      }
    });
  });
}
