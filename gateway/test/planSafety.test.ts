import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../src/config/problems.ts';
import { send } from './helpers/http.ts';
import { SHIPPED_ROUTES as SHIPPED, startShippedPlan, type ShippedPlan } from './helpers/shippedPlan.ts';

/**
 * What a careless edit of routes.yaml must not do: expose /admin (or /metrics) to the public,
 * or be reported at the wrong place. Every case starts from the shipped routes.yaml, is
 * checked by `gateway validate` on a real file, and is refused by a running gateway on reload.
 */
const BIN = fileURLToPath(new URL('../bin/gateway.mjs', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'gateway-plan-safety-'));

function validate(file: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'validate', file], (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }));
  });
}

/** The shipped plan with `from` replaced by `to` (which must occur exactly once). */
function edited(from: string, to: string): string {
  expect(SHIPPED.split(from)).toHaveLength(2);
  return SHIPPED.replace(from, to);
}

/** 1-based line of the first line of `text` containing `needle` (after `after`, if given). */
function lineOf(text: string, needle: string, after = ''): number {
  const start = after ? text.indexOf(after) : 0;
  return text.slice(0, text.indexOf(needle, start)).split('\n').length;
}

function fileWith(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const ADMIN_ROUTE = `  - name: admin
    match: { path: /admin/** }
    deny: 404
`;
const SITE_MATCH = 'match: { path: /** }';

/** The five plans that validated and exposed /admin; each names the route that leaks. */
const LEAKS: { name: string; text: string; leakLine: (text: string) => number; says: string }[] = [
  {
    name: 'the admin deny limited to GET and HEAD',
    text: edited('match: { path: /admin/** }', 'match: { path: /admin/**, methods: [GET, HEAD] }'),
    leakLine: (text) => lineOf(text, SITE_MATCH),
    says: 'applies only to methods GET, HEAD, every other request falls through',
  },
  {
    name: 'the admin deny with a header condition',
    text: edited('match: { path: /admin/** }', 'match: { path: /admin/**, headers: { x-internal: "no" } }'),
    leakLine: (text) => lineOf(text, SITE_MATCH),
    says: 'applies only to headers x-internal: no',
  },
  {
    name: 'the admin route deleted',
    text: edited(ADMIN_ROUTE, ''),
    leakLine: (text) => lineOf(text, SITE_MATCH),
    says: "no deny route above it covers '/admin/**'",
  },
  {
    name: '/admin/ instead of /admin/**',
    text: edited('match: { path: /admin/** }', 'match: { path: /admin/ }'),
    leakLine: (text) => lineOf(text, SITE_MATCH),
    says: "covers only '/admin/', not all of '/admin/**': make it deny '/admin/**'",
  },
  {
    name: 'a broader route above it',
    text: edited(
      ADMIN_ROUTE,
      `  - name: any-users
    match: { path: /*/users/** }
    split: { users: 10 }
${ADMIN_ROUTE}`,
    ),
    leakLine: (text) => lineOf(text, 'match: { path: /*/users/** }'),
    says: "'/*/users/**' sends requests under the protected path '/admin/**' (e.g. /admin/users/x) to users and the legacy backend",
  },
];

describe('protect: no request under /admin/** or /metrics can reach a back end', () => {
  it('the shipped routes.yaml protects both, by default', async () => {
    const result = await validate(fileWith('shipped.yaml', SHIPPED));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('protected: /admin/**, /metrics');
  });

  it.each(LEAKS)('gateway validate rejects $name, naming file:line of the route that would leak', async ({ name, text, leakLine, says }) => {
    const file = fileWith(`${name.replace(/\W+/g, '-')}.yaml`, text);
    const result = await validate(file);
    expect(result.code).toBe(1);
    const leak = result.stdout.split('\n').find((line) => line.includes("the protected path '/admin/**'"));
    expect(leak).toBeDefined();
    expect(leak!.startsWith(`${file}:${leakLine(text)}: routes[`)).toBe(true);
    expect(leak).toContain(says);
  });

  it('rejects a /metrics deny limited to GET, and a protected path of its own (protect: [/internal/**])', async () => {
    const metrics = await validate(fileWith('metrics.yaml', edited('match: { path: /metrics }', 'match: { path: /metrics, methods: [GET] }')));
    expect(metrics.code).toBe(1);
    expect(metrics.stdout).toContain("sends requests under the protected path '/metrics' (e.g. /metrics) to the legacy backend; the deny route 'internal'");
    const own = edited('routes:\n', 'protect: [/admin/**, /metrics, /internal/**]\nroutes:\n');
    const result = await validate(fileWith('own.yaml', own));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `own.yaml:${lineOf(own, SITE_MATCH)}: routes[5] (site).match.path: '/**' sends requests under the protected path '/internal/**' (e.g. /internal/x)`,
    );
  });

  it('accepts protect: [] (nothing protected, on purpose) and refuses a bad pattern with its line', async () => {
    const none = await validate(fileWith('none.yaml', edited(ADMIN_ROUTE, '').replace('routes:\n', 'protect: []\nroutes:\n')));
    expect(none.code).toBe(0);
    const bad = edited('routes:\n', 'protect: [/admin/**, admin]\nroutes:\n');
    const result = await validate(fileWith('bad.yaml', bad));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`bad.yaml:${lineOf(bad, 'protect:')}: protect: 'admin' must start with '/'`);
  });

  describe('a running gateway', () => {
    let plan: ShippedPlan;

    beforeAll(async () => {
      plan = await startShippedPlan({ watch: false });
    });

    afterAll(async () => {
      await plan.stop();
    });

    it.each(LEAKS)('refuses $name on reload, keeps the old plan, and /admin stays denied', async ({ text, leakLine }) => {
      const { gateway } = plan;
      gateway.rewrite(text);
      const reload = await gateway.reload();
      expect(reload.ok).toBe(false);
      if (!reload.ok)
        expect(
          reload.problems.map(formatProblem).some((p) => p.startsWith(`${gateway.routesFile}:${leakLine(text)}:`) && p.includes("protected path '/admin/**'")),
        ).toBe(true);
      const before = plan.reached();
      for (const method of ['GET', 'POST', 'DELETE']) {
        const reply = await send(`${gateway.url}/admin/users/`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: method === 'POST' ? '{"username":"mallory","password":"x"}' : undefined,
        });
        expect(reply.status).toBe(404);
      }
      expect(plan.reached()).toBe(before);
    });
  });
});

describe('YAML syntax errors name the real line and column', () => {
  async function firstProblem(name: string, text: string): Promise<string> {
    const file = fileWith(name, text);
    const result = await validate(file);
    expect(result.code).toBe(1);
    return result.stdout.split('\n')[0]!.replace(file, 'FILE');
  }

  it('a tab used as indentation', async () => {
    const text = edited('  users:    { url', '\tusers:    { url');
    expect(await firstProblem('tab.yaml', text)).toBe(`FILE:${lineOf(text, '\tusers')}:1: YAML syntax: Tabs are not allowed as indentation`);
  });

  it('an unclosed [ points at the bracket, not where the parser gave up', async () => {
    const text = edited('match: { path: /api/me/thoughts/** }', 'match: { path: [/api/me/thoughts/**, /api/me/x }');
    const line = lineOf(text, '[/api/me/thoughts/**');
    const problem = await firstProblem('bracket.yaml', text);
    expect(problem).toMatch(new RegExp(`^FILE:${line}:\\d+: YAML syntax: '[[{]' is never closed`));
    expect(problem).not.toMatch(/^FILE:1:/);
  });

  it('an unclosed [ in a block mapping, several lines before the next key', async () => {
    const text = edited('  keys: [jwt:username', '  keys:\n    [jwt:username').replace(/cookie:gw_cohort\]/, 'cookie:gw_cohort');
    const line = lineOf(text, '    [jwt:username');
    expect(await firstProblem('block-bracket.yaml', text)).toMatch(new RegExp(`^FILE:${line}:5: YAML syntax: '\\[' is never closed`));
  });

  it('a duplicate key is reported at the second one', async () => {
    const text = edited(
      '    group: thoughts\n    split: { thoughts: 10 }\n    fallback: legacy\n    # Compare',
      '    group: thoughts\n    split: { thoughts: 10 }\n    group: thoughts\n    fallback: legacy\n    # Compare',
    );
    const line = lineOf(text, '    group: thoughts', '    split: { thoughts: 10 }\n    group');
    expect(await firstProblem('duplicate.yaml', text)).toBe(`FILE:${line}:5: YAML syntax: Map keys must be unique`);
  });
});
