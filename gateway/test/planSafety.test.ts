import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatProblem } from '../src/config/problems.ts';
import { send } from './helpers/http.ts';
import { ADMIN_ROUTE, edited, LEAKING_PLANS as LEAKS, lineOf, PROTECT_MISTAKES, SITE_MATCH, SYNTAX_ERROR_PLANS } from '../../faults/corpora/badPlans.ts';
import { SHIPPED_ROUTES as SHIPPED, startShippedPlan, type ShippedPlan } from './helpers/shippedPlan.ts';

/**
 * What a careless edit of routes.yaml must not do: expose /admin (or /metrics) to the public,
 * or be reported at the wrong place. Every case (faults/corpora/badPlans.ts, shared with
 * `npm run faults`) starts from the shipped routes.yaml, is checked by `gateway validate` on a
 * real file, and is refused by a running gateway on reload.
 */
const BIN = fileURLToPath(new URL('../bin/gateway.mjs', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'gateway-plan-safety-'));

function validate(file: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'validate', file], (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }));
  });
}

function fileWith(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

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
    expect(leak!.startsWith(`${file}:${leakLine}: routes[`)).toBe(true);
    expect(leak).toContain(says);
  });

  it('rejects a /metrics deny limited to GET, and a protected path of its own (protect: [/internal/**])', async () => {
    const metrics = await validate(fileWith('metrics.yaml', PROTECT_MISTAKES.metricsDenyForGetOnly.text));
    expect(metrics.code).toBe(1);
    expect(metrics.stdout).toContain("sends requests under the protected path '/metrics' (e.g. /metrics) to the legacy backend; the deny route 'internal'");
    const own = PROTECT_MISTAKES.ownProtectedPathReached.text;
    const result = await validate(fileWith('own.yaml', own));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `own.yaml:${lineOf(own, SITE_MATCH)}: routes[5] (site).match.path: '/**' sends requests under the protected path '/internal/**' (e.g. /internal/x)`,
    );
  });

  it('accepts protect: [] (nothing protected, on purpose) and refuses a bad pattern with its line', async () => {
    const none = await validate(fileWith('none.yaml', edited(ADMIN_ROUTE, '').replace('routes:\n', 'protect: []\nroutes:\n')));
    expect(none.code).toBe(0);
    const bad = PROTECT_MISTAKES.patternWithoutSlash.text;
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
          reload.problems.map(formatProblem).some((p) => p.startsWith(`${gateway.routesFile}:${leakLine}:`) && p.includes("protected path '/admin/**'")),
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
  it.each(SYNTAX_ERROR_PLANS)('$name', async ({ name, text, firstProblem }) => {
    const file = fileWith(`${name.replace(/\W+/g, '-')}.yaml`, text);
    const result = await validate(file);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')[0]!.replace(file, 'FILE')).toMatch(firstProblem);
  });
});
