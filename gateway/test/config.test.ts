import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compileRouteTable } from '../src/config/compileRouteTable.ts';
import { formatProblem } from '../src/config/problems.ts';
import { FilePlanStore } from '../src/plan/filePlanStore.ts';

const BACKENDS = `backends:
  legacy: { url: http://127.0.0.1:8001, legacy: true }
  users: { url: http://127.0.0.1:8002 }
  thoughts: { url: http://127.0.0.1:8003 }
`;

/** The problems of a routes text, formatted as `gateway validate` prints them. */
function problemsOf(text: string): string[] {
  const result = compileRouteTable(text, 'routes.yaml');
  if (result.ok) throw new Error('expected the file to be rejected');
  return result.problems.map(formatProblem);
}

describe('routes.yaml validation', () => {
  it('names file, line, field and the allowed backends for an unknown backend in a split', () => {
    const text = `${BACKENDS}routes:
  - name: thoughts-api
    match: { path: /api/thoughts/** }
    split: { thougths: 10 }
`;
    expect(problemsOf(text)).toEqual([
      "routes.yaml:8: routes[0] (thoughts-api).split.thougths: unknown backend 'thougths'; allowed: legacy, users, thoughts (declared under backends:)",
    ]);
  });

  it('rejects an unknown fallback backend with the allowed names', () => {
    const text = `${BACKENDS}routes:
  - name: api
    match: { path: /api/** }
    split: { thoughts: 10 }
    fallback: monolith
`;
    expect(problemsOf(text)).toEqual(["routes.yaml:9: routes[0] (api).fallback: unknown backend 'monolith'; allowed: legacy, users, thoughts"]);
  });

  it('reports a route placed after a broader one as unreachable, naming both lines', () => {
    const text = `${BACKENDS}routes:
  - name: site
    match: { path: /** }
    split: {}
  - name: admin
    match: { path: /admin/** }
    deny: 404
`;
    expect(problemsOf(text)).toEqual([
      "routes.yaml:7: routes[0] (site).match.path: '/**' sends requests under the protected path '/admin/**' (e.g. /admin/x) to the legacy backend; no deny route above it covers '/admin/**': put one before it, e.g. - { name: protected, match: { path: /admin/** }, deny: 404 }",
      "routes.yaml:7: routes[0] (site).match.path: '/**' sends requests under the protected path '/metrics' (e.g. /metrics) to the legacy backend; no deny route above it covers '/metrics': put one before it, e.g. - { name: protected, match: { path: /metrics }, deny: 404 }",
      "routes.yaml:10: routes[1] (admin).match.path: '/admin/**' can never match: route 'site' (line 6) comes first and takes every such request; move 'admin' above 'site' or narrow 'site'",
    ]);
  });

  it('does not call a route unreachable when the earlier one is limited to other methods', () => {
    const text = `${BACKENDS}routes:
  - name: reads
    match: { path: /api/**, methods: [GET] }
    split: { thoughts: 10 }
  - name: writes
    match: { path: /api/thoughts/** }
    split: {}
`;
    expect(compileRouteTable(text, 'routes.yaml').ok).toBe(true);
  });

  it('rejects a percentage outside 0..100 or with more precision than a bucket, saying what is allowed', () => {
    const text = `${BACKENDS}routes:
  - name: a
    match: { path: /a/ }
    split: { users: 120 }
  - name: b
    match: { path: /b/ }
    split: { users: 0.125 }
  - name: c
    match: { path: /c/ }
    split: { users: "10%" }
`;
    const rule = 'a number of percent from 0 to 100 with at most two decimals, e.g. 25 or 0.5';
    expect(problemsOf(text)).toEqual([
      `routes.yaml:8: routes[0] (a).split.users: 120 is not allowed: ${rule}`,
      `routes.yaml:11: routes[1] (b).split.users: 0.125 is not allowed: ${rule}`,
      `routes.yaml:14: routes[2] (c).split.users: must be ${rule}`,
    ]);
  });

  it('rejects new backends adding up to more than 100 %', () => {
    const text = `${BACKENDS}routes:
  - name: api
    match: { path: /api/** }
    split: { users: 60, thoughts: 50 }
`;
    expect(problemsOf(text)).toEqual([
      "routes.yaml:8: routes[0] (api).split: the new backends' shares add up to 110%; at most 100 is allowed (the rest goes to legacy)",
    ]);
  });

  it('requires an explicitly listed legacy share to complete the split to exactly 100', () => {
    const text = `${BACKENDS}routes:
  - name: api
    match: { path: /api/** }
    split: { thoughts: 20, legacy: 90 }
`;
    expect(problemsOf(text)).toEqual([
      "routes.yaml:8: routes[0] (api).split: the shares add up to 110%, but when 'legacy' is listed they must add up to exactly 100 (it would get 80); fix the numbers or leave 'legacy' out",
    ]);
  });

  it('rejects unknown keys at every level, with a suggestion and the allowed keys', () => {
    const text = `${BACKENDS}cohrt: { salt: x }
routes:
  - name: api
    match: { path: /api/**, method: [GET] }
    split: { thoughts: 10 }
    fallbak: legacy
`;
    expect(problemsOf(text)).toEqual([
      "routes.yaml:5: cohrt: unknown key 'cohrt' (did you mean 'cohort'?); allowed here: backends, cohort, outlier, replay, timeouts, testers, protect, routes",
      "routes.yaml:8: routes[0] (api).match.method: unknown key 'method' (did you mean 'methods'?); allowed here: path, methods, headers",
      "routes.yaml:10: routes[0] (api).fallbak: unknown key 'fallbak' (did you mean 'fallback'?); allowed here: name, match, group, split, fallback, deny, shadow, rollout",
    ]);
  });

  it('requires exactly one legacy backend', () => {
    const text = `backends:
  users: { url: http://127.0.0.1:8002 }
routes:
  - name: site
    match: { path: /site/** }
    split: {}
`;
    expect(problemsOf(text)).toEqual([
      "routes.yaml:2: backends: exactly one backend must have 'legacy: true' (it takes every share not split to a new backend); none is",
    ]);
  });

  it('rejects backend URLs that are not plain http origins', () => {
    const text = `backends:
  legacy: { url: http://127.0.0.1:8001/app, legacy: true }
  users: { url: "https://users.internal" }
routes:
  - { name: site, match: { path: /site/** }, split: {} }
`;
    expect(problemsOf(text)).toEqual([
      "routes.yaml:2: backends.legacy.url: 'http://127.0.0.1:8001/app' must be an origin only (scheme, host, port), without path, query or credentials",
      "routes.yaml:3: backends.users.url: 'https://users.internal': only http:// back ends are supported (TLS to back ends is not implemented)",
    ]);
  });

  it('rejects bad patterns, a route with both split and deny, and duplicate names', () => {
    const text = `${BACKENDS}routes:
  - name: a
    match: { path: "/api/th*/" }
    split: {}
  - name: b
    match: { path: /b/ }
    split: {}
    deny: 404
  - name: c
    match: { path: /c/ }
    deny: 404
  - name: c
    match: { path: /d/ }
    deny: 404
`;
    expect(problemsOf(text)).toEqual([
      "routes.yaml:7: routes[0] (a).match.path: '/api/th*/': wildcards must be whole segments ('*' or '**'), not part of 'th*'; '*' matches one segment, '**' (last) any number",
      "routes.yaml:9: routes[1] (b): has both 'split' and 'deny'; a route either forwards (split) or refuses (deny)",
      "routes.yaml:16: routes[3] (c).name: route name 'c' is already used on line 13; names must be unique (they label metrics)",
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const problems = problemsOf(`${BACKENDS}routes:\n  - name: a\n    match: { path: /a/\n`);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^routes\.yaml:\d+:\d+: YAML syntax: /);
  });

  it('names an unreadable file', async () => {
    const result = await new FilePlanStore({ file: '/nonexistent/routes.yaml' }).read();
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(formatProblem(result.problems[0]!)).toBe(
        '/nonexistent/routes.yaml:1: cannot read the routes file: no such file (set GATEWAY_ROUTES or pass the file path)',
      );
  });

  it('applies backend URL overrides (GATEWAY_BACKEND_<NAME>_URL) and validates them too', () => {
    const text = `${BACKENDS}routes:\n  - { name: site, match: { path: /site/** }, split: {} }\n`;
    const ok = compileRouteTable(text, 'routes.yaml', (name) => (name === 'thoughts' ? 'http://thoughts.internal:9000' : undefined));
    expect(ok.ok && ok.table.backend('thoughts')?.origin).toBe('http://thoughts.internal:9000');
    const bad = compileRouteTable(text, 'routes.yaml', (name) => (name === 'users' ? 'users:8002' : undefined));
    expect(bad.ok ? [] : bad.problems.map(formatProblem)).toEqual([
      "routes.yaml:3: backends.users.url: 'users:8002' (from GATEWAY_BACKEND_USERS_URL): only http:// back ends are supported (TLS to back ends is not implemented)",
    ]);
  });
});

describe('the shipped routes.yaml', () => {
  const file = fileURLToPath(new URL('../../routes.yaml', import.meta.url));
  const result = compileRouteTable(readFileSync(file, 'utf8'), file);
  const table = result.ok ? result.table : undefined;

  it('is valid and has the legacy, users and thoughts backends', () => {
    expect(result.ok ? [] : result.problems.map(formatProblem)).toEqual([]);
    expect(table!.backends.map((b) => [b.name, b.origin, b.legacy])).toEqual([
      ['legacy', 'http://127.0.0.1:8001', true],
      ['users', 'http://127.0.0.1:8002', false],
      ['thoughts', 'http://127.0.0.1:8003', false],
    ]);
  });

  it.each([
    ['/admin/users/', 'POST', 'admin'],
    ['/ADMIN', 'GET', 'admin'],
    ['/api/login', 'POST', 'login'],
    ['/api/login/', 'POST', 'login'],
    ['/api/me/thoughts/', 'GET', 'my-thoughts'],
    ['/api/thoughts/', 'GET', 'thoughts'],
    ['/api/thoughts/3/', 'GET', 'thoughts'],
    ['/api/thoughts', 'GET', 'thoughts'],
    ['/thoughts/', 'GET', 'site'],
    ['/search', 'GET', 'site'],
    ['/', 'GET', 'site'],
  ])('routes %s %s to %s', (path, method, route) => {
    expect(table!.match(path, method, {})?.name).toBe(route);
  });

  it('denies /admin with 404 and keeps the thoughts routes in one group with a legacy fallback', () => {
    const admin = table!.routes.find((r) => r.name === 'admin')!;
    expect(admin.deny).toBe(404);
    for (const name of ['my-thoughts', 'thoughts']) {
      const route = table!.routes.find((r) => r.name === name)!;
      expect([route.group, route.fallback?.name]).toEqual(['thoughts', 'legacy']);
    }
  });
});
