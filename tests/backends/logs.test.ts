import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBackEnd, type BackEndProcess } from '../support/processes.ts';
import { startSystem, type MyThoughtsSystem } from '../support/system.ts';

/**
 * What the back ends write to their logs, read from their real output. Clients may send credentials in the query string (the monolith's mobile app does); the back
 * ends accept them but must never write them to their logs. Checked on the real log output of
 * each back end running as its own process.
 */
describe("the back ends' logs: no query-string secrets, no ERROR for a client's bad input", () => {
  let system: MyThoughtsSystem;
  const backEnds: Record<string, BackEndProcess> = {};
  const password = `pw-${randomUUID()}`;
  const username = `logger${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    system = await startSystem('sqlite');
    const env = { ...system.env, LOG_LEVEL: 'info' };
    backEnds.legacy = await spawnBackEnd('legacy-monolith/src/main.ts', 'LEGACY_PORT', env);
    backEnds.users = await spawnBackEnd('services/users/src/main.ts', 'USERS_PORT', env);
    backEnds.thoughts = await spawnBackEnd('services/thoughts/src/main.ts', 'THOUGHTS_PORT', env);
    const created = await fetch(`${system.legacyUrl}/admin/users/`, { method: 'POST', body: new URLSearchParams({ username, password }) });
    expect(created.status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    for (const backEnd of Object.values(backEnds)) backEnd.child.kill('SIGTERM');
    await system?.stop();
  });

  /** The back end's log lines so far, once the line of the request with this id is written. */
  async function logLinesOf(backEnd: BackEndProcess, requestId: string): Promise<string> {
    for (let tries = 0; tries < 50 && !backEnd.output().includes(`"reqId":"${requestId}"`) && !backEnd.output().includes(`"id":"${requestId}"`); tries++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    return backEnd.output();
  }

  for (const name of ['legacy', 'users'] as const) {
    it(`${name}: a login with the password in the query works and its log line shows [redacted], never the password`, async () => {
      const backEnd = backEnds[name]!;
      const query = `username=${username}&password=${encodeURIComponent(password)}`;
      const ok = await fetch(`${backEnd.url}/api/login/?${query}`, { method: 'POST', headers: { 'x-request-id': `ok-${name}` } });
      expect(ok.status).toBe(200);
      // The slashless path answers 308 with the query kept in Location: that header is logged too.
      const moved = await fetch(`${backEnd.url}/api/login?${query}`, { method: 'POST', redirect: 'manual', headers: { 'x-request-id': `moved-${name}` } });
      expect(moved.status).toBe(308);
      expect(moved.headers.get('location')).toContain(encodeURIComponent(password));
      const wrong = await fetch(
        `${backEnd.url}/api/login/?username=${username}&password=${encodeURIComponent(password)}x&Session=${encodeURIComponent(password)}`,
        {
          method: 'POST',
          headers: { 'x-request-id': `wrong-${name}`, referer: `http://example.test/login?password=${encodeURIComponent(password)}` },
        },
      );
      expect(wrong.status).toBe(401);
      const log = await logLinesOf(backEnd, `wrong-${name}`);
      for (const id of [`ok-${name}`, `moved-${name}`, `wrong-${name}`]) expect(log).toContain(`"id":"${id}"`);
      expect(log).toContain(`/api/login/?username=${username}&password=[redacted]`);
      expect(log).toContain(`"location":"/api/login/?username=${username}&password=[redacted]"`);
      expect(log).not.toContain(password);
    });
  }

  it('thoughts: a token or secret in any query parameter is redacted in the logged URL and query', async () => {
    const backEnd = backEnds.thoughts!;
    const secret = randomUUID();
    const response = await fetch(`${backEnd.url}/api/thoughts/?search=few&access_token=${secret}&api%5Fkey=${secret}`, {
      headers: { 'x-request-id': 'thoughts-query' },
    });
    expect(response.status).toBe(200);
    const log = await logLinesOf(backEnd, 'thoughts-query');
    expect(log).toContain('/api/thoughts/?search=few&access_token=[redacted]&api%5Fkey=[redacted]');
    expect(log).not.toContain(secret);
  });

  it('legacy: an unknown charset or invalid UTF-8, on the API or the HTML site, is a 4xx and no ERROR line', async () => {
    const backEnd = backEnds.legacy!;
    const latin1 = Buffer.from([0x74, 0x65, 0x78, 0x74, 0x3d, 0x63, 0x61, 0x66, 0xe9]); // text=café in Latin-1
    const cases: Array<[string, string, RequestInit, number]> = [
      ['api-charset', '/api/login/', { headers: { 'content-type': 'application/json; charset=klingon' }, body: '{"username":"bruce"}' }, 415],
      ['api-utf8', '/api/login/', { headers: { 'content-type': 'application/json' }, body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) }, 400],
      ['api-encoding', '/api/login/', { headers: { 'content-type': 'application/json', 'content-encoding': 'klingon' }, body: '{}' }, 415],
      ['site-charset', '/login/', { headers: { 'content-type': 'application/x-www-form-urlencoded; charset=klingon' }, body: 'username=bruce' }, 415],
      ['site-utf8', '/thoughts/new', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: latin1 }, 400],
    ];
    for (const [id, path, init, status] of cases) {
      const headers = { ...(init.headers as Record<string, string>), 'x-request-id': `bad-${id}` };
      const response = await fetch(`${backEnd.url}${path}`, { ...init, method: 'POST', headers });
      expect(response.status, id).toBe(status);
      expect(await response.text(), id).toMatch(/charset|UTF-8|encoding/i);
    }
    const log = await logLinesOf(backEnd, 'bad-site-utf8');
    for (const [id] of cases) expect(log).toContain(`"id":"bad-${id}"`);
    const errors = log.split('\n').filter((line) => /"level":(50|60)/.test(line));
    expect(errors).toEqual([]);
  });
});
