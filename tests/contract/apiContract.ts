import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { expect, it } from 'vitest';
import { jwtAttacks } from '../../faults/corpora/jwtAttacks.ts';
import { send, type RequestOptions } from './client.ts';
import type { ApiTarget } from './targets.ts';

/**
 * The public JSON API contract (docs/api-contract.md §2 and §3), written once and run
 * against every implementation: the same requests, the same assertions, the same fixtures.
 * Bodies are compared as exact bytes where the contract fixes them.
 */
const UNAUTHORIZED =
  '{"message":"The server could not verify that you are authorized to access the URL requested. You either supplied the wrong credentials (e.g. a bad password), or your browser doesn\'t understand how to supply the credentials required."}';
const MISSING = 'Missing required parameter in the JSON body or the post body or the query string';
const NULL_THOUGHT = '{"id":null,"username":null,"text":null,"timestamp":null}';
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$/;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const SEEDED_BRUCE =
  '[{"id":1,"username":"bruce","text":"A few seconds more and we\'ll know whether we have succeeded or not!","timestamp":"1962-05-11T09:53:41"},' +
  '{"id":2,"username":"bruce","text":"And now, if you\'ll excuse me, it\'s time for the final countdown","timestamp":"1962-05-11T09:58:23"},' +
  '{"id":3,"username":"bruce","text":"In a few seconds we will finally learn what happens when the powerful gamma rays are released","timestamp":"1962-05-11T10:07:13"}]';

function missingBody(field: string, help: string): string {
  return JSON.stringify({ errors: { [field]: `${help} ${MISSING}` }, message: 'Input payload validation failed' });
}

export function defineApiContract(target: () => ApiTarget): void {
  const call = (method: string, path: string, options?: RequestOptions) => send(target().url(path), method, options);
  const unique = (prefix: string) => `${prefix}${randomUUID().slice(0, 8)}`;

  async function login(username: string, password: string): Promise<string> {
    const response = await call('POST', '/api/login/', { json: { username, password } });
    expect(response.status).toBe(200);
    return (response.json() as { Authorized: string }).Authorized;
  }

  async function newUser(): Promise<{ username: string; auth: string }> {
    const username = unique('user');
    const created = await call('POST', '/admin/users/', { json: { username, password: 'secret' } });
    expect(created.status).toBe(201);
    return { username, auth: await login(username, 'secret') };
  }

  function expectJson(response: { headers: Headers }) {
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
  }

  // --- POST /api/login/ -------------------------------------------------------------
  it('login answers exactly one key, Authorized, with an RS256 bearer token valid for two days', async () => {
    const response = await call('POST', '/api/login/', { json: { username: 'bruce', password: 'password' } });
    expect(response.status).toBe(200);
    expectJson(response);
    const body = response.json() as Record<string, string>;
    expect(Object.keys(body)).toEqual(['Authorized']);
    const [scheme, token] = body.Authorized!.split(' ');
    expect(scheme).toBe('Bearer');
    const payload = jwt.verify(token!, target().publicKeyPem, { algorithms: ['RS256'] }) as jwt.JwtPayload;
    expect(payload.username).toBe('bruce');
    expect(payload.exp! - payload.iat!).toBe(2 * 24 * 3600);
  });

  it('login takes its fields from a form body or the query string too', async () => {
    expect((await call('POST', '/api/login/', { form: { username: 'bruce', password: 'password' } })).status).toBe(200);
    expect((await call('POST', '/api/login/?username=bruce&password=password')).status).toBe(200);
  });

  it('login prefers the JSON body over the query string', async () => {
    const response = await call('POST', '/api/login/?password=password', { json: { username: 'bruce', password: 'wrong' } });
    expect(response.status).toBe(401);
  });

  it('login without a field answers 400 naming the first missing field', async () => {
    const noUser = await call('POST', '/api/login/', { json: { password: 'password' } });
    expect(noUser.status).toBe(400);
    expectJson(noUser);
    expect(noUser.text).toBe(missingBody('username', 'Username'));
    const noPassword = await call('POST', '/api/login/', { form: { username: 'bruce' } });
    expect(noPassword.status).toBe(400);
    expect(noPassword.text).toBe(missingBody('password', 'Password'));
  });

  it('login with a wrong password or an unknown user answers 401 with the standard message', async () => {
    for (const json of [
      { username: 'bruce', password: 'nope' },
      { username: 'nobody', password: 'password' },
    ]) {
      const response = await call('POST', '/api/login/', { json });
      expect(response.status).toBe(401);
      expectJson(response);
      expect(response.text).toBe(UNAUTHORIZED);
    }
  });

  it('a malformed JSON body answers 400 with a message that says so', async () => {
    const response = await call('POST', '/api/login/', { rawJson: '{"username": "bruce",' });
    expect(response.status).toBe(400);
    expectJson(response);
    expect((response.json() as { message: string }).message).toMatch(/^Failed to decode JSON object/);
  });

  it('an unknown charset answers 415 naming it, and nothing is stored', async () => {
    const { auth } = await newUser();
    const text = unique('klingon');
    for (const [path, body, headers] of [
      ['/api/login/', '{"username":"bruce","password":"password"}', {}],
      ['/api/me/thoughts/', JSON.stringify({ text }), { authorization: auth }],
      ['/admin/users/', JSON.stringify({ username: text, password: 'pw' }), {}],
    ] as const) {
      const response = await call('POST', path, { raw: { contentType: 'application/json; charset=klingon', body }, headers });
      expect(response.status, path).toBe(415);
      expectJson(response);
      expect((response.json() as { message: string }).message, path).toMatch(/charset "klingon"/i);
    }
    const form = await call('POST', '/api/me/thoughts/', {
      raw: { contentType: 'application/x-www-form-urlencoded; charset=utf-klingon', body: `text=${text}` },
      headers: { authorization: auth },
    });
    expect(form.status).toBe(415);
    expect((await call('GET', '/api/me/thoughts/', { headers: { authorization: auth } })).text).toBe('[]');
    expect((await call('POST', '/api/login/', { json: { username: text, password: 'pw' } })).status).toBe(401);
  });

  it('invalid UTF-8 in a JSON body, a form body or the query answers 400 saying so, and nothing is stored', async () => {
    const { auth } = await newUser();
    const invalid = Buffer.concat([Buffer.from('{"text":"caf'), Buffer.from([0xe9]), Buffer.from('"}')]); // Latin-1 é
    const cases: Array<[string, RequestOptions, RegExp]> = [
      ['JSON body', { raw: { contentType: 'application/json', body: invalid } }, /body is not valid UTF-8/],
      ['JSON body, charset stated', { raw: { contentType: 'application/json; charset=utf-8', body: invalid } }, /body is not valid UTF-8/],
      [
        'form body, raw byte',
        { raw: { contentType: 'application/x-www-form-urlencoded', body: Buffer.from([0x74, 0x65, 0x78, 0x74, 0x3d, 0xff]) } },
        /body is not valid UTF-8/,
      ],
      [
        'form body, %-escape',
        { raw: { contentType: 'application/x-www-form-urlencoded', body: 'text=caf%E9' } },
        /form body has %-escapes that are not valid UTF-8/,
      ],
    ];
    for (const [name, options, message] of cases) {
      const response = await call('POST', '/api/me/thoughts/', { ...options, headers: { authorization: auth } });
      expect(response.status, name).toBe(400);
      expectJson(response);
      expect((response.json() as { message: string }).message, name).toMatch(message);
    }
    const query = await call('POST', '/api/me/thoughts/?text=caf%E9', { headers: { authorization: auth } });
    expect(query.status).toBe(400);
    expect((query.json() as { message: string }).message).toMatch(/query string has %-escapes that are not valid UTF-8/);
    const login = await call('POST', '/api/login/', {
      raw: { contentType: 'application/json', body: Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]) },
    });
    expect(login.status).toBe(400);
    expect((await call('GET', '/api/me/thoughts/', { headers: { authorization: auth } })).text).toBe('[]');
    // Valid UTF-8, %-escaped or not, is of course still taken.
    const ok = await call('POST', '/api/me/thoughts/?text=caf%C3%A9%20100%', { headers: { authorization: auth } });
    expect(ok.status).toBe(201);
    expect((ok.json() as { text: string }).text).toBe('café 100%');
  });

  it('a route without its trailing slash answers 308 to the slashed URL, query kept', async () => {
    const response = await call('POST', '/api/login?next=1', { json: { username: 'bruce', password: 'password' } });
    expect(response.status).toBe(308);
    expect(response.headers.get('location')).toBe('/api/login/?next=1');
    const get = await call('GET', '/api/thoughts');
    expect(get.status).toBe(308);
    expect(get.headers.get('location')).toBe('/api/thoughts/');
  });

  it('a wrong method on an existing route answers 405 with an Allow header', async () => {
    const response = await call('GET', '/api/login/');
    expect(response.status).toBe(405);
    expectJson(response);
    expect(response.headers.get('allow')).toBe('OPTIONS, POST');
    const del = await call('DELETE', '/api/thoughts/');
    expect(del.status).toBe(405);
    expect(del.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  // --- POST /admin/users/ ------------------------------------------------------------
  it('creating a user answers 201 with id, username and creation, never the password', async () => {
    const username = unique('new');
    const response = await call('POST', '/admin/users/', { json: { username, password: 'pw' } });
    expect(response.status).toBe(201);
    expectJson(response);
    const body = response.json() as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['id', 'username', 'creation']);
    expect(body.username).toBe(username);
    expect(body.id).toEqual(expect.any(Number));
    expect(body.creation).toMatch(TIMESTAMP);
    expect(response.text).not.toContain('pw');
    expect((await call('POST', '/api/login/', { json: { username, password: 'pw' } })).status).toBe(200);
  });

  it('creating a user twice answers 409 naming the username', async () => {
    const username = unique('dup');
    expect((await call('POST', '/admin/users/', { form: { username, password: 'a' } })).status).toBe(201);
    const again = await call('POST', '/admin/users/', { form: { username, password: 'b' } });
    expect(again.status).toBe(409);
    expectJson(again);
    expect(again.text).toContain(username);
  });

  it('creating a user without a password answers 400', async () => {
    const response = await call('POST', '/admin/users/', { json: { username: unique('x') } });
    expect(response.status).toBe(400);
    expect(response.text).toBe(missingBody('password', 'Password'));
  });

  // --- /api/me/thoughts/ -------------------------------------------------------------
  it("lists the caller's thoughts, id ascending, byte for byte", async () => {
    const response = await call('GET', '/api/me/thoughts/', { headers: { authorization: await login('bruce', 'password') } });
    expect(response.status).toBe(200);
    expectJson(response);
    expect(response.text).toBe(SEEDED_BRUCE);
  });

  it('the word Bearer matches case-insensitively', async () => {
    const token = (await login('bruce', 'password')).split(' ')[1]!;
    const response = await call('GET', '/api/me/thoughts/', { headers: { authorization: `bEaReR ${token}` } });
    expect(response.status).toBe(200);
  });

  it('posting a thought answers 201 with it; the username comes from the token, not the body', async () => {
    const { username, auth } = await newUser();
    const response = await call('POST', '/api/me/thoughts/', { json: { text: 'hello <world> & "you"', username: 'bruce' }, headers: { authorization: auth } });
    expect(response.status).toBe(201);
    expectJson(response);
    const thought = response.json() as Record<string, unknown>;
    expect(Object.keys(thought)).toEqual(['id', 'username', 'text', 'timestamp']);
    expect(thought).toMatchObject({ username, text: 'hello <world> & "you"' });
    expect(thought.timestamp).toMatch(TIMESTAMP);
    const single = await call('GET', `/api/thoughts/${thought.id}/`);
    expect(single.text).toBe(response.text);
  });

  it("a user's own list is ordered by id ascending", async () => {
    const { auth } = await newUser();
    const ids: number[] = [];
    for (const text of ['first', 'second', 'third']) {
      const created = await call('POST', '/api/me/thoughts/', { form: { text }, headers: { authorization: auth } });
      ids.push((created.json() as { id: number }).id);
    }
    const list = (await call('GET', '/api/me/thoughts/', { headers: { authorization: auth } })).json() as Array<{ id: number; text: string }>;
    expect(list.map((t) => t.id)).toEqual(ids);
    expect(list.map((t) => t.text)).toEqual(['first', 'second', 'third']);
  });

  it('text is checked before auth: no text answers 400 even without a token', async () => {
    const response = await call('POST', '/api/me/thoughts/', { json: {} });
    expect(response.status).toBe(400);
    expect(response.text).toBe(missingBody('text', 'Text of the thought'));
  });

  it('text of 250 characters is accepted, 251 answers 400 naming the field; empty text is accepted', async () => {
    const { auth } = await newUser();
    const ok = await call('POST', '/api/me/thoughts/', { json: { text: 'x'.repeat(250) }, headers: { authorization: auth } });
    expect(ok.status).toBe(201);
    const tooLong = await call('POST', '/api/me/thoughts/', { json: { text: 'x'.repeat(251) }, headers: { authorization: auth } });
    expect(tooLong.status).toBe(400);
    expectJson(tooLong);
    expect(Object.keys((tooLong.json() as { errors: object }).errors)).toEqual(['text']);
    const empty = await call('POST', '/api/me/thoughts/', { json: { text: '' }, headers: { authorization: auth } });
    expect(empty.status).toBe(201);
    expect((empty.json() as { text: string }).text).toBe('');
  });

  it('every kind of bad token answers 401 with the standard message, never 500', async () => {
    const cases = jwtAttacks(target());
    for (const [name, authorization] of Object.entries(cases)) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const response = await call('GET', '/api/me/thoughts/', { headers });
      expect(response.status, name).toBe(401);
      expect(response.text, name).toBe(UNAUTHORIZED);
      const post = await call('POST', '/api/me/thoughts/', { json: { text: 'x' }, headers });
      expect(post.status, `POST with ${name}`).toBe(401);
    }
  });

  // --- /api/thoughts/ ----------------------------------------------------------------
  it('lists all thoughts id ascending, the seed first', async () => {
    const response = await call('GET', '/api/thoughts/');
    expect(response.status).toBe(200);
    expectJson(response);
    const list = response.json() as Array<{ id: number; username: string }>;
    expect(list.slice(0, 5).map((t) => [t.id, t.username])).toEqual([
      [1, 'bruce'],
      [2, 'bruce'],
      [3, 'bruce'],
      [4, 'stephen'],
      [5, 'stephen'],
    ]);
    expect(list.map((t) => t.id)).toEqual([...list.map((t) => t.id)].sort((a, b) => a - b));
  });

  it('searches case-insensitively', async () => {
    const response = await call('GET', '/api/thoughts/?search=FEW');
    expect(response.status).toBe(200);
    const list = response.json() as Array<{ id: number }>;
    expect(list.map((t) => t.id).filter((id) => id <= 5)).toEqual([1, 3]);
    const { auth } = await newUser();
    const marker = unique('Éclair');
    await call('POST', '/api/me/thoughts/', { json: { text: `an ${marker} for you` }, headers: { authorization: auth } });
    const found = (await call('GET', `/api/thoughts/?search=${encodeURIComponent(marker.toLowerCase())}`)).json() as Array<{ text: string }>;
    expect(found.map((t) => t.text)).toEqual([`an ${marker} for you`]);
  });

  it('search treats % and _ literally', async () => {
    const { auth } = await newUser();
    const marker = unique('zq');
    for (const text of [`${marker}%off`, `${marker}_x`, `${marker}ab`]) {
      await call('POST', '/api/me/thoughts/', { json: { text }, headers: { authorization: auth } });
    }
    const texts = async (term: string) =>
      ((await call('GET', `/api/thoughts/?search=${encodeURIComponent(term)}`)).json() as Array<{ text: string }>).map((t) => t.text);
    expect(await texts(`${marker}%`)).toEqual([`${marker}%off`]);
    expect(await texts(`${marker}_`)).toEqual([`${marker}_x`]);
    expect(await texts(marker)).toHaveLength(3);
  });

  it('known difference (contract §5): whitespace around a search term is stripped by the monolith, kept by the new service', async () => {
    const seedIds = async (query: string) =>
      ((await call('GET', `/api/thoughts/?search=${query}`)).json() as Array<{ id: number }>).map((t) => t.id).filter((id) => id <= 5);
    const stripped = [1, 2, 5]; // `now`: "know", "now,", "Now go"
    const asSent = [1, 5]; // `now `: "know whether", "Now go"
    expect(await seedIds('now')).toEqual(stripped);
    // Through the gateway a request lands on either side; anything else is a contract breach.
    const allowed = { legacy: [stripped], services: [asSent], gateway: [stripped, asSent] }[target().name as 'legacy' | 'services' | 'gateway'];
    expect(allowed).toContainEqual(await seedIds('now%20'));
  });

  it('an empty search lists everything', async () => {
    const all = await call('GET', '/api/thoughts/');
    const empty = await call('GET', '/api/thoughts/?search=');
    expect(empty.text).toBe(all.text);
  });

  it('gets one thought byte for byte', async () => {
    const response = await call('GET', '/api/thoughts/4/');
    expect(response.status).toBe(200);
    expectJson(response);
    expect(response.text).toBe('{"id":4,"username":"stephen","text":"Naturally! All who come to me are! Speak...","timestamp":"1963-06-11T19:53:41"}');
  });

  it('an unknown thought answers 404 with the all-null body', async () => {
    for (const id of ['999999', 'abc']) {
      const response = await call('GET', `/api/thoughts/${id}/`);
      expect(response.status, id).toBe(404);
      expectJson(response);
      expect(response.text, id).toBe(NULL_THOUGHT);
    }
  });

  // --- DELETE /admin/thoughts/<id>/ --------------------------------------------------
  it('deleting a thought answers 204 with an empty body, also when it does not exist', async () => {
    const { auth } = await newUser();
    const created = (await call('POST', '/api/me/thoughts/', { json: { text: 'to delete' }, headers: { authorization: auth } })).json() as { id: number };
    const first = await call('DELETE', `/admin/thoughts/${created.id}/`);
    expect(first.status).toBe(204);
    expect(first.text).toBe('');
    expect((await call('GET', `/api/thoughts/${created.id}/`)).status).toBe(404);
    const again = await call('DELETE', `/admin/thoughts/${created.id}/`);
    expect(again.status).toBe(204);
  });

  // --- X-Request-ID ------------------------------------------------------------------
  it('echoes X-Request-ID, or generates a uuid4 one', async () => {
    const kept = await call('GET', '/api/thoughts/1/', { headers: { 'x-request-id': 'trace-42' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-42');
    const generated = await call('GET', '/api/thoughts/1/');
    expect(generated.headers.get('x-request-id')).toMatch(UUID4);
  });
}
