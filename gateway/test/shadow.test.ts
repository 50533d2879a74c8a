import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileRouteTable } from '../src/config/compileRouteTable.ts';
import { formatProblem } from '../src/config/problems.ts';
import type { CapturedResponse } from '../src/shadow/capturedResponse.ts';
import { formatDifferences } from '../src/shadow/diffFormat.ts';
import { diffJson } from '../src/shadow/jsonDiff.ts';
import { IgnoreRule } from '../src/core/jsonPath.ts';
import { MismatchStore, type MismatchRecord } from '../src/shadow/mismatchStore.ts';
import { ShadowComparator } from '../src/shadow/shadowComparator.ts';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { scrape, startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { routesYaml, sample } from './helpers/routes.ts';
import { waitForComparisons } from './helpers/shadow.ts';

function rule(text: string): IgnoreRule {
  const parsed = IgnoreRule.parse(text);
  if (!(parsed instanceof IgnoreRule)) throw new Error(parsed.error);
  return parsed;
}

function answer(status: number, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): CapturedResponse {
  const buffer = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  return { ok: true, backend: 'x', status, headers, body: buffer, truncated: false, bodyBytes: buffer.length, ms: 1 };
}

describe('ignore paths', () => {
  it.each([
    [
      '$[*].timestamp',
      [
        [0, 'timestamp'],
        [7, 'timestamp'],
        [1, 'timestamp', 'x'],
      ],
      [[0, 'text'], ['timestamp']],
    ],
    ['$..timestamp', [['timestamp'], [3, 'a', 'timestamp']], [[3, 'a']]],
    ['timestamp', [['timestamp'], [0, 'timestamp']], [['time']]],
    ['$.meta', [['meta'], ['meta', 'x', 0]], [['metadata']]],
    ["$['odd key'][0]", [['odd key', 0]], [['odd key', 1]]],
    ['$', [[], ['a']], []],
  ] as const)('%s covers what it names and what lies beneath, nothing else', (text, covered, notCovered) => {
    const parsed = rule(text);
    for (const location of covered) expect(parsed.covers(location)).toBe(true);
    for (const location of notCovered) expect(parsed.covers(location)).toBe(false);
  });

  it('refuses what it does not understand, saying what is allowed', () => {
    expect(IgnoreRule.parse('$.a[x]')).toEqual({ error: expect.stringMatching(/not understood at '\[x\]'; use \.field, \.\.field, \[\*\], \[0\]/) });
    expect(IgnoreRule.parse('a.b')).toEqual({ error: expect.stringMatching(/start with \$/) });
  });
});

describe('ShadowComparator', () => {
  const comparator = new ShadowComparator({ headers: ['content-type', 'location'], ignore: [rule('$[*].timestamp')] });

  it('compares JSON structurally: key order does not matter, list order and values do', () => {
    expect(diffJson({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, [])).toEqual([]);
    const differences = diffJson(
      [{ id: 1, text: 'a' }, { id: 2 }],
      [
        { text: 'a', id: 2 },
        { id: 2, extra: true },
      ],
      [],
    );
    expect(formatDifferences(differences)).toEqual(['$[0].id: 1 → 2', '$[1].extra: (absent) → true']);
    expect(formatDifferences(diffJson({ a: [1] }, { a: { 0: 1 } }, []))).toEqual(['$.a: [1] → {"0":1}']);
  });

  it('applies ignore rules, ignores unselected headers, and reports status, header and text body differences', () => {
    const a = answer(200, [{ id: 1, timestamp: '2026-01-01T00:00:00' }], { 'content-type': 'application/json', date: 'Mon', 'x-request-id': '1' });
    const b = answer(200, [{ timestamp: '2026-11-25T14:00:00', id: 1 }], { 'content-type': 'application/json', date: 'Tue', 'x-request-id': '2' });
    expect(comparator.compare(a, b)).toEqual([]);
    const html = answer(404, '<p>Not here</p>', { 'content-type': 'text/html' });
    expect(formatDifferences(comparator.compare(a, html))).toEqual([
      'status: 200 → 404',
      'header content-type: "application/json" → "text/html"',
      expect.stringMatching(/^body \(first difference at byte 0\): "\[\{\\"id\\".*→ "<p>Not here<\/p>"$/),
    ]);
  });

  it('reports a body over the cap on one side only as a difference of size', () => {
    const small = answer(200, 'x', { 'content-type': 'text/plain' });
    const big = { ...answer(200, 'x'.repeat(10), { 'content-type': 'text/plain' }), truncated: true, bodyBytes: 5000 };
    expect(formatDifferences(comparator.compare(small, big))).toEqual(['body: "1 bytes" → "5000 bytes or more (over the body cap)"']);
  });
});

describe('MismatchStore', () => {
  it('keeps the last N mismatches, newest first, and counts every one', () => {
    const store = new MismatchStore(3);
    for (let i = 0; i < 5; i++) store.add({ route: i % 2 === 0 ? 'even' : 'odd', requestId: String(i) } as MismatchRecord);
    expect(store.list().map((r) => r.requestId)).toEqual(['4', '3', '2']);
    expect(store.list({ route: 'even' }).map((r) => r.requestId)).toEqual(['4', '2']);
    expect(store.list({ limit: 1 }).map((r) => r.requestId)).toEqual(['4']);
    expect(store.total).toBe(5);
  });
});

describe('shadow: in routes.yaml', () => {
  const backends = { legacy: 'http://127.0.0.1:1', thoughts: 'http://127.0.0.1:2' };
  const problems = (shadow: string) => {
    const result = compileRouteTable(routesYaml(backends, `  - { name: api, match: { path: /** }, split: {}, shadow: ${shadow} }`), 'routes.yaml');
    return result.ok ? [] : result.problems.map(formatProblem);
  };

  it('accepts a full shadow section and shows it in the summary', () => {
    const result = compileRouteTable(
      routesYaml(
        backends,
        "  - { name: api, match: { path: /** }, split: {}, shadow: { to: thoughts, percent: 50, ignore: ['$[*].timestamp', id], headers: [Content-Type], max_in_flight: 4, timeout_ms: 900, max_body_bytes: 100, noise_percent: 5 } }",
      ),
      'routes.yaml',
    );
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    const shadow = result.table.routes[0]!.shadow!;
    expect({ ...shadow, to: shadow.to.name, ignore: shadow.ignore.map((r) => r.text), methods: [...shadow.methods] }).toMatchObject({
      to: 'thoughts',
      percent: 50,
      methods: ['GET', 'HEAD'],
      ignore: ['$[*].timestamp', 'id'],
      headers: ['content-type'],
      maxInFlight: 4,
      timeoutMs: 900,
      maxBodyBytes: 100,
      noisePercent: 5,
    });
    expect(result.table.summary()).toEqual(['api: /** → legacy 100% (shadow 50% to thoughts)']);
  });

  it('refuses writes without allow_writes, unknown backends, bad paths and shadows on deny routes', () => {
    expect(problems('{ to: thoughts, methods: [GET, POST] }')).toEqual([
      expect.stringMatching(/routes\[0\] \(api\)\.shadow\.methods: POST would be sent twice, once to each backend.*add allow_writes: true only if/),
    ]);
    expect(problems('{ to: thoughts, methods: [POST], allow_writes: true }')).toEqual([]);
    expect(problems('{ to: thoughtz }')).toEqual([expect.stringMatching(/shadow\.to: unknown backend 'thoughtz'; allowed: legacy, thoughts/)]);
    expect(problems("{ to: thoughts, ignore: ['$.a[x]'], percent: 101, max_in_flight: 0 }")).toHaveLength(3);
    const deny = compileRouteTable(routesYaml(backends, '  - { name: api, match: { path: /** }, deny: 404, shadow: { to: thoughts } }'), 'routes.yaml');
    expect(deny.ok ? [] : deny.problems.map(formatProblem)).toEqual([expect.stringMatching(/shadow: a deny route forwards nothing/)]);
  });
});

/** The primary's answers; the candidate answers the same except where a test makes it differ. */
function service(name: string) {
  return (req: IncomingMessage, res: ServerResponse, body: string) => {
    const json = (value: unknown) => res.writeHead(200, { 'content-type': 'application/json', 'x-backend': name }).end(JSON.stringify(value));
    const url = req.url ?? '';
    if (url.startsWith('/m/list'))
      return json([
        { id: 1, text: 'a', timestamp: new Date().toISOString() },
        { id: 2, text: 'b', timestamp: new Date().toISOString() },
      ]);
    if (url.startsWith('/m/object')) return json(name === 'legacy' ? { b: 1, a: [1, 2] } : { a: [1, 2], b: 1 });
    if (url.startsWith('/m/wrong'))
      return json([
        { id: 1, text: 'a' },
        { id: 2, text: name === 'legacy' ? 'Hello' : 'hello' },
      ]);
    if (url.startsWith('/m/big')) return res.writeHead(200, { 'content-type': 'text/plain' }).end('z'.repeat(100_000));
    if (url.startsWith('/n/')) return json({ id: 1, nonce: Math.random() });
    if (url.startsWith('/w/')) return json({ received: body.length });
    return json({ backend: name });
  };
}

describe('shadow traffic through the gateway', () => {
  let legacy: TestBackend;
  let candidate: TestBackend;
  let slow: TestBackend;
  let gateway: TestGateway;

  beforeAll(async () => {
    [legacy, candidate, slow] = await Promise.all([
      startBackend('legacy', service('legacy')),
      startBackend('candidate', service('candidate')),
      startBackend('slow'),
    ]);
    // A candidate that answers exactly like the primary, but only after 2 s.
    slow.behaviour = (req, res, body) => void setTimeout(() => service('legacy')(req, res, body), 2_000);
    gateway = await startTestGateway(
      routesYaml(
        { legacy: legacy.url, candidate: candidate.url, slow: slow.url },
        `  - { name: plain, match: { path: /plain/** }, split: {} }
  - { name: mirrored, match: { path: /m/** }, split: {}, shadow: { to: candidate, ignore: ['$[*].timestamp'], max_body_bytes: 1024, noise_percent: 0 } }
  - { name: unmasked, match: { path: /n/raw/** }, split: {}, shadow: { to: candidate, noise_percent: 0 } }
  - { name: noisy, match: { path: /n/** }, split: {}, shadow: { to: candidate, noise_percent: 100 } }
  - { name: writes, match: { path: /w/** }, split: {}, shadow: { to: candidate, methods: [GET, POST], allow_writes: true, max_body_bytes: 64 } }
  - { name: reads, match: { path: /r/** }, split: {}, shadow: { to: candidate } }
  - { name: slow, match: { path: /slow/** }, split: {}, shadow: { to: slow, max_in_flight: 2, noise_percent: 0 } }
  - { name: timeout, match: { path: /t/** }, split: {}, shadow: { to: slow, timeout_ms: 100, noise_percent: 0 } }`,
      ),
    );
  });

  afterAll(async () => {
    await gateway.stop();
    await Promise.all([legacy.close(), candidate.close(), slow.close()]);
  });

  it('copies a GET to the candidate with the shadow marker; the client gets the primary answer; equal answers count as match', async () => {
    const reply = await send(`${gateway.url}/m/object/?q=1`, { headers: { 'x-request-id': 'shadow-1', 'x-gateway-shadow': 'forged' } });
    expect(reply.json()).toEqual({ b: 1, a: [1, 2] });
    expect(reply.headers['x-backend']).toBe('legacy');
    await send(`${gateway.url}/m/list/`);
    expect(await waitForComparisons(gateway, 'mirrored', 2)).toMatchObject({ match: 2, mismatch: 0 });
    const copy = candidate.seen.find((seen) => seen.headers['x-request-id'] === 'shadow-1')!;
    expect(copy).toMatchObject({ method: 'GET', url: '/m/object/?q=1' });
    expect(copy.headers['x-gateway-shadow']).toBe('1');
    // The primary never sees a marker, not even one the client forged.
    expect(legacy.seen.find((seen) => seen.headers['x-request-id'] === 'shadow-1')!.headers['x-gateway-shadow']).toBeUndefined();
  });

  it('records a mismatch with the request, both answers and a diff naming the field, in the log and on the admin API', async () => {
    await send(`${gateway.url}/m/wrong/`, { headers: { 'x-request-id': 'shadow-wrong', authorization: 'Bearer secret-token' } });
    expect(await waitForComparisons(gateway, 'mirrored', 3)).toMatchObject({ mismatch: 1 });
    const line = gateway.logLines().find((l) => l.msg?.toString().startsWith('shadow mismatch'))!;
    expect(line).toMatchObject({
      reqId: 'shadow-wrong',
      route: 'mirrored',
      diff: ['$[1].text: "Hello" → "hello"'],
      primary: { backend: 'legacy', status: 200 },
      candidate: { backend: 'candidate', status: 200 },
    });
    const api = (await send(`${gateway.adminUrl}/api/shadow/mismatches?route=mirrored`)).json<{ mismatches: MismatchRecord[] }>();
    expect(api.mismatches[0]).toMatchObject({
      route: 'mirrored',
      requestId: 'shadow-wrong',
      request: { method: 'GET', target: '/m/wrong/' },
      primary: { backend: 'legacy', status: 200, body: '[{"id":1,"text":"a"},{"id":2,"text":"Hello"}]' },
      candidate: { backend: 'candidate', body: '[{"id":1,"text":"a"},{"id":2,"text":"hello"}]' },
      diff: ['$[1].text: "Hello" → "hello"'],
    });
    expect(JSON.stringify(api)).not.toContain('secret-token');
    expect((await send(`${gateway.adminUrl}/api/shadow/mismatches?limit=0`)).status).toBe(400);
  });

  it('streams a body over the cap to the client intact, and compares the capped copies', async () => {
    const reply = await send(`${gateway.url}/m/big/`);
    expect(reply.body).toBe('z'.repeat(100_000));
    expect(await waitForComparisons(gateway, 'mirrored', 4)).toMatchObject({ match: 3, mismatch: 1 });
  });

  it('learns noise by asking the primary twice: a field the primary itself varies is not a mismatch', async () => {
    for (let i = 0; i < 3; i++) await send(`${gateway.url}/n/`);
    expect(await waitForComparisons(gateway, 'noisy', 3)).toMatchObject({ match: 3, mismatch: 0 });
    const metrics = await scrape(gateway);
    expect(metrics.get(sample('gateway_shadow_noise_samples_total', { route: 'noisy', result: 'noisy' }))).toBe(3);
    expect((await send(`${gateway.adminUrl}/api/shadow/mismatches`)).json()).toMatchObject({ noise: { noisy: ['$.nonce'] } });
    // Without noise sampling the same answers are mismatches: the noise estimate is what saves them.
    await send(`${gateway.url}/n/raw/`);
    expect(await waitForComparisons(gateway, 'unmasked', 1)).toMatchObject({ mismatch: 1 });
  });

  it('mirrors writes only when allowed, with the body, and skips a body over the cap', async () => {
    const postsBefore = candidate.seen.filter((s) => s.method === 'POST').length;
    await send(`${gateway.url}/r/`, { method: 'POST', body: '{"text":"x"}', headers: { 'content-type': 'application/json' } });
    await send(`${gateway.url}/w/`, { method: 'POST', body: '{"text":"small"}', headers: { 'content-type': 'application/json' } });
    const big = JSON.stringify({ text: 'y'.repeat(200) });
    const reply = await send(`${gateway.url}/w/`, { method: 'POST', body: big, headers: { 'content-type': 'application/json' } });
    expect(reply.json()).toEqual({ received: big.length });
    expect(await waitForComparisons(gateway, 'writes', 2)).toMatchObject({ match: 1, skipped: 1 });
    const posts = candidate.seen.filter((s) => s.method === 'POST').slice(postsBefore);
    expect(posts.map((p) => [p.url, p.body])).toEqual([['/w/', '{"text":"small"}']]);
    expect((await scrape(gateway)).get(sample('gateway_shadow_comparisons_total', { route: 'reads', result: 'match' }))).toBe(0);
  });

  it('never makes the client wait for a slow shadow, and skips (does not queue) copies beyond max_in_flight', async () => {
    const started = performance.now();
    const times = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const reply = await send(`${gateway.url}/slow/${i}`);
        expect(reply.json()).toEqual({ backend: 'legacy' });
        return performance.now() - started;
      }),
    );
    // The shadow answers after 2 s; every client had its answer long before.
    expect(Math.max(...times)).toBeLessThan(1_000);
    expect(await shadowCounts('slow')).toMatchObject({ skipped: 10 });
    expect(slow.seen).toHaveLength(2);
    const counts = await waitForComparisons(gateway, 'slow', 12, 6_000);
    expect(counts).toEqual({ match: 2, mismatch: 0, error: 0, skipped: 10 });
    // Nothing was queued: once the two copies are done, no late copy arrives.
    expect(slow.seen).toHaveLength(2);
  });

  it('counts a shadow that times out as error, with the reason logged', async () => {
    const reply = await send(`${gateway.url}/t/`);
    expect(reply.status).toBe(200);
    expect(await waitForComparisons(gateway, 'timeout', 1)).toMatchObject({ error: 1 });
    expect(gateway.logLines().find((l) => l.route === 'timeout' && l.msg?.toString().startsWith('shadow comparison not possible'))).toMatchObject({
      reason: 'slow gave no complete answer within 100 ms',
    });
  });

  it('costs a route without shadow nothing: no copy, no comparison', async () => {
    const before = candidate.seen.length;
    await send(`${gateway.url}/plain/`);
    const metrics = await scrape(gateway);
    expect([...metrics.keys()].some((key) => key.includes('route="plain"') && key.startsWith('gateway_shadow'))).toBe(false);
    expect(candidate.seen.length).toBe(before);
  });

  async function shadowCounts(route: string): Promise<Record<string, number>> {
    const metrics = await scrape(gateway);
    return Object.fromEntries(
      ['match', 'mismatch', 'error', 'skipped'].map((result) => [result, metrics.get(sample('gateway_shadow_comparisons_total', { route, result })) ?? 0]),
    );
  }
});
