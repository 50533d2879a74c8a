import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenSigner } from '@mythoughts/runtime/tokens';
import { startSystem, type MyThoughtsSystem } from '../../tests/support/system.ts';
import type { MismatchRecord } from '../src/shadow/mismatchStore.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { startReversedThoughts } from './helpers/reversedThoughts.ts';
import { thoughtsShadowPlan, waitForComparisons } from './helpers/shadow.ts';

/** The book's thoughts API at 0 % on the new service, every read mirrored to `candidate`. */
function plan(system: MyThoughtsSystem, candidateUrl: string): string {
  const shadow = '{ to: thoughts, noise_percent: 50 }';
  return thoughtsShadowPlan(system.legacyUrl, candidateUrl, { myThoughts: shadow, thoughts: shadow });
}

let system: MyThoughtsSystem;
let reversed: { url: string; close(): Promise<void> };
let faithful: TestGateway;
let wrong: TestGateway;
let bearer: string;

beforeAll(async () => {
  system = await startSystem('sqlite');
  reversed = await startReversedThoughts(system.thoughtsUrl);
  [faithful, wrong] = await Promise.all([startTestGateway(plan(system, system.thoughtsUrl)), startTestGateway(plan(system, reversed.url))]);
  bearer = `Bearer ${createTokenSigner(system.privateKeyPem).sign('bruce')}`;
}, 60_000);

afterAll(async () => {
  await Promise.all([faithful?.stop(), wrong?.stop()]);
  await reversed?.close();
  await system?.stop();
});

/** Reads of the book's API: lists, search (case, literal %), one thought, unknown id, the 308, auth failures. */
const READS: [string, string, Record<string, string>?][] = [
  ['GET', '/api/thoughts/'],
  ['GET', '/api/thoughts/?search=few'],
  ['GET', '/api/thoughts/?search=FEW'],
  ['GET', '/api/thoughts/?search=%25'],
  ['GET', '/api/thoughts/?search='],
  ['GET', '/api/thoughts/1/'],
  ['GET', '/api/thoughts/99/'],
  ['GET', '/api/thoughts'],
  ['HEAD', '/api/thoughts/'],
  ['GET', '/api/me/thoughts/'],
  ['GET', '/api/me/thoughts/', { authorization: 'Bearer garbage' }],
];

describe('shadow traffic against the real services', () => {
  it('finds zero mismatches between the monolith and the real thoughts service (X-Request-ID and Date are not compared)', async () => {
    const mine = (extra?: Record<string, string>) => ({ authorization: bearer, ...extra });
    for (const [method, path, headers] of READS) expect((await send(`${faithful.url}${path}`, { method, headers })).status).toBeLessThan(500);
    await send(`${faithful.url}/api/me/thoughts/`, { headers: mine() });
    // A write is not mirrored (it would be stored twice); the reads after it see a thought with a fresh timestamp on both sides.
    const created = await send(`${faithful.url}/api/me/thoughts/`, {
      method: 'POST',
      headers: mine({ 'content-type': 'application/json' }),
      body: '{"text":"shadowed, not doubled"}',
    });
    expect(created.status).toBe(201);
    await send(`${faithful.url}/api/me/thoughts/`, { headers: mine() });
    await send(`${faithful.url}/api/thoughts/?search=shadowed`);
    await send(`${faithful.url}/api/thoughts/`);

    // 9 reads of /api/thoughts/** above plus 2 after the write; 2 + 2 reads of /api/me/thoughts/.
    expect(await waitForComparisons(faithful, 'thoughts', 11)).toEqual({ match: 11, mismatch: 0, error: 0, skipped: 0 });
    expect(await waitForComparisons(faithful, 'my-thoughts', 4)).toEqual({ match: 4, mismatch: 0, error: 0, skipped: 0 });
    const everyone = (await send(`${system.legacyUrl}/api/thoughts/?search=shadowed`)).json<unknown[]>();
    expect(everyone).toHaveLength(1);
    const api = (await send(`${faithful.adminUrl}/api/shadow/mismatches`)).json<{ mismatches: MismatchRecord[] }>();
    expect(api.mismatches).toEqual([]);
  });

  it('records mismatches naming the differing fields when the candidate serves lists newest first', async () => {
    const search = await send(`${wrong.url}/api/thoughts/?search=few`, { headers: { 'x-request-id': 'wrong-order' } });
    // The client is served by the monolith, in the right order, whatever the candidate does.
    expect(search.json<{ id: number }[]>().map((t) => t.id)).toEqual([1, 3]);
    await send(`${wrong.url}/api/thoughts/1/`);
    expect(await waitForComparisons(wrong, 'thoughts', 2)).toMatchObject({ match: 1, mismatch: 1 });
    const [record] = (await send(`${wrong.adminUrl}/api/shadow/mismatches?route=thoughts`)).json<{ mismatches: MismatchRecord[] }>().mismatches;
    expect(record).toMatchObject({
      requestId: 'wrong-order',
      request: { method: 'GET', target: '/api/thoughts/?search=few' },
      primary: { backend: 'legacy', status: 200 },
      candidate: { backend: 'thoughts', status: 200 },
    });
    expect(record!.diff).toContain('$[0].id: 1 → 3');
    expect(record!.diff).toContain('$[1].id: 3 → 1');
    expect(record!.diff.some((line) => line.startsWith('$[0].text: "A few seconds more'))).toBe(true);
    const logged = wrong.logLines().find((line) => line.reqId === 'wrong-order' && line.msg?.toString().startsWith('shadow mismatch'));
    expect(logged?.diff).toEqual(record!.diff);
  });
});
