import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/gateway.mjs', import.meta.url));
const dir = mkdtempSync(path.join(tmpdir(), 'gateway-cli-'));

function gateway(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
    });
  });
}

function file(name: string, text: string): string {
  const target = path.join(dir, name);
  writeFileSync(target, text);
  return target;
}

const VALID = `backends:
  legacy: { url: http://127.0.0.1:8001, legacy: true }
  thoughts: { url: http://127.0.0.1:8003 }
routes:
  - { name: admin, match: { path: /admin/** }, deny: 404 }
  - { name: thoughts, match: { path: [/api/thoughts/**, /api/me/thoughts/**], methods: [GET, POST] }, group: t, split: { thoughts: 25 }, fallback: legacy }
  - { name: site, match: { path: /** }, split: { legacy: 100 } }
protect: [/admin/**]
`;

describe('gateway validate', () => {
  it('prints OK and one summary line per route for a valid file', async () => {
    const valid = file('valid.yaml', VALID);
    const result = await gateway(['validate', valid]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        `OK ${valid}`,
        '  protected: /admin/**',
        '  admin: /admin/** → deny 404',
        '  thoughts: /api/thoughts/** /api/me/thoughts/** [GET,POST] → thoughts 25%, legacy 75% (group t, fallback legacy)',
        '  site: /** → legacy 100%',
        '',
      ].join('\n'),
    );
  });

  it('prints each problem as file:line: field: message and exits 1', async () => {
    const invalid = file('invalid.yaml', VALID.replace('thoughts: 25', 'thoughts: 125').replace('deny: 404', 'deny: 404, why: x'));
    const result = await gateway(['validate', invalid]);
    expect(result.code).toBe(1);
    expect(result.stdout.split('\n')).toEqual([
      `${invalid}:5: routes[0] (admin).why: unknown key 'why'; allowed here: name, match, group, split, fallback, deny, shadow, rollout`,
      `${invalid}:6: routes[1] (thoughts).split.thoughts: 125 is not allowed: a number of percent from 0 to 100 with at most two decimals, e.g. 25 or 0.5`,
      `2 problems in ${invalid}`,
      '',
    ]);
  });

  it('defaults to $GATEWAY_ROUTES', async () => {
    const valid = file('from-env.yaml', VALID);
    const result = await gateway(['validate'], { GATEWAY_ROUTES: valid });
    expect(result.stdout.split('\n')[0]).toBe(`OK ${valid}`);
  });

  it('has --help on every command', async () => {
    const [top, validate, serve] = await Promise.all([gateway(['--help']), gateway(['validate', '--help']), gateway(['serve', '--help'])]);
    expect([top.code, validate.code, serve.code]).toEqual([0, 0, 0]);
    expect(top.stdout).toMatch(/^Usage: gateway <command>/);
    expect(validate.stdout).toMatch(/^Usage: gateway validate \[file\]/);
    expect(serve.stdout).toMatch(/^Usage: gateway serve/);
    expect(serve.stdout).toContain('GATEWAY_BACKEND_<NAME>_URL');
  });

  it('rejects an unknown command with the usage', async () => {
    const result = await gateway(['servr']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command 'servr'/);
  });
});

describe('gateway serve', () => {
  it('refuses to start on an invalid routes file, naming each problem, exit 1', async () => {
    const invalid = file('serve-invalid.yaml', VALID.replace('fallback: legacy', 'fallback: monolith'));
    const result = await gateway(['serve'], { GATEWAY_ROUTES: invalid, GATEWAY_PORT: '0', GATEWAY_ADMIN_PORT: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`gateway: ${invalid} is not a valid routes file:\n${invalid}:6: routes[1] (thoughts).fallback: unknown backend 'monolith'`);
  });
});
