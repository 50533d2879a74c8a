// `gateway shift`, `gateway panic` and `gateway routes`, run as a person runs them (the bin,
// a real process) on real files, with and without a running gateway.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, groupSeed } from '../src/core/bucket.ts';
import { cohortId } from './helpers/cohort.ts';
import { closedPort } from './helpers/backends.ts';
import { commentedRoutes, sendAsClients, startOpsSystem, type OpsSystem } from './helpers/opsFixture.ts';

const BIN = fileURLToPath(new URL('../bin/gateway.mjs', import.meta.url));
const URLS = { legacy: 'http://127.0.0.1:8001', thoughts: 'http://127.0.0.1:8003', users: 'http://127.0.0.1:8002' };
const ORIGINAL = commentedRoutes(URLS);
let unreachableAdmin: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function gateway(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { ...process.env, GATEWAY_ADMIN_URL: unreachableAdmin, USER: 'tester', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

/** A fresh copy of the commented routes file in its own directory (so each has its own audit log). */
function routesCopy(text = ORIGINAL): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gateway-ops-'));
  const file = path.join(dir, 'routes.yaml');
  writeFileSync(file, text);
  return file;
}

const auditOf = (file: string) => path.join(path.dirname(file), 'routes.audit.jsonl');
const commentsOf = (text: string) =>
  text
    .split('\n')
    .map((line) => /#.*$/.exec(line)?.[0])
    .filter(Boolean);

beforeAll(async () => {
  unreachableAdmin = `http://127.0.0.1:${await closedPort()}`;
});

describe('gateway shift', () => {
  it('changes only the numbers: every comment and the layout stay (whole-file comparison)', async () => {
    const file = routesCopy();
    const run = await gateway(['shift', 'thoughts', 'thoughts=25', '--file', file, '--reason', 'canary clean']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const expected = ORIGINAL.replace('    split: { thoughts: 10 }   # canary\n', '    split: { thoughts: 25 }   # canary\n').replace(
      '      thoughts: 10    # block style, with a comment\n      legacy: 90\n',
      '      thoughts: 25    # block style, with a comment\n      legacy: 75\n',
    );
    expect(expected).not.toBe(ORIGINAL);
    expect(readFileSync(file, 'utf8')).toBe(expected);
    expect(commentsOf(readFileSync(file, 'utf8'))).toEqual(commentsOf(ORIGINAL));
    expect(run.stdout).toContain('note: group thoughts moves together: my-thoughts, thoughts\n');
    expect(run.stdout).toContain(
      'my-thoughts: thoughts 10%, legacy 90% → thoughts 25%, legacy 75%\nthoughts: thoughts 10%, legacy 90% → thoughts 25%, legacy 75%\n',
    );
    expect(run.stdout).toContain(`Wrote ${file}; recorded in ${auditOf(file)}.\n`);
    expect(run.stdout).toContain("Not confirmed that a gateway runs it: cannot reach the gateway's admin API");

    const audit = readFileSync(auditOf(file), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const version = createHash('sha256').update(readFileSync(file)).digest('hex');
    // One line per route of the group the shift moved, alike but for the route.
    expect(audit).toEqual(
      ['my-thoughts', 'thoughts'].map((route) => ({
        time: expect.any(String),
        who: 'tester',
        via: 'cli',
        action: 'shift',
        route,
        group: 'thoughts',
        old: { thoughts: 10, legacy: 90 },
        new: { thoughts: 25, legacy: 75 },
        reason: 'canary clean',
        file,
        version,
      })),
    );
  });

  it('adds a backend to an empty split, --only moves one route of a group (with a note), --by names who', async () => {
    const file = routesCopy();
    const login = await gateway(['shift', 'login', 'users=5', '--file', file, '--by', 'alice']);
    expect(login.code, login.stderr).toBe(0);
    const only = await gateway(['shift', 'my-thoughts', 'thoughts=50', '--only', '--file', file]);
    expect(only.code, only.stderr).toBe(0);
    expect(only.stdout).toContain('note: only my-thoughts changes: the other routes of group thoughts keep their split');
    expect(readFileSync(file, 'utf8')).toBe(
      ORIGINAL.replace('    split: {}            # not started\n', '    split: { users: 5 }            # not started\n').replace(
        '    split: { thoughts: 10 }   # canary\n',
        '    split: { thoughts: 50 }   # canary\n',
      ),
    );
    expect(readFileSync(auditOf(file), 'utf8')).toContain('"who":"alice","via":"cli","action":"shift","route":"login"');
  });

  it('adds a backend to a block-style split on its own line, in the same indentation', async () => {
    const file = routesCopy(
      ORIGINAL.replace('      thoughts: 10    # block style, with a comment\n      legacy: 90\n', '      legacy: 100   # block style, with a comment\n'),
    );
    const run = await gateway(['shift', 'thoughts', 'users=30', '--only', '--file', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toContain('    split:\n      legacy: 70   # block style, with a comment\n      users: 30\n    fallback: legacy\n');
  });

  it('refuses invalid shifts with a message naming the problem, and leaves the file byte-identical', async () => {
    const cases: [string[], string][] = [
      [['thougths', 'thoughts=20'], "unknown route 'thougths' (did you mean 'thoughts'?); routes: admin, my-thoughts, thoughts, login, site"],
      [['thoughts', 'thinks=20'], "unknown backend 'thinks'; backends: legacy, thoughts, users"],
      [['thoughts', 'thoughts=-5'], 'the share of thoughts: -5 is negative'],
      [['thoughts', 'thoughts=ten'], "the share of thoughts: 'ten' is not a number"],
      [['thoughts', 'thoughts=101'], 'the share of thoughts: 101 is more than 100 percent'],
      [['thoughts', 'thoughts=12.345'], 'has more than two decimals'],
      [['thoughts', 'users=95'], 'on route my-thoughts the new backends would add up to more than 100%: thoughts 10% + users 95% = 105%'],
      [
        ['thoughts', 'legacy=60'],
        "legacy is the legacy backend: it takes whatever the new backends leave; set a new backend's share instead, e.g. thoughts=40",
      ],
      [['admin', 'thoughts=5'], 'route admin answers 404 itself (deny): it forwards nothing'],
      [['thoughts', '25'], "'25' is not BACKEND=PERCENT, e.g. thoughts=25"],
    ];
    await Promise.all(
      cases.map(async ([args, message]) => {
        const file = routesCopy();
        const run = await gateway(['shift', ...args, '--file', file]);
        expect(run.code, args.join(' ')).toBe(1);
        expect(run.stderr).toContain(message);
        expect(run.stdout).toBe('');
        expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
        expect(existsSync(auditOf(file))).toBe(false);
      }),
    );
  });

  it('refuses to move a group whose routes split to different new backends (use --only)', async () => {
    const file = routesCopy(ORIGINAL.replace('    split: { thoughts: 10 }   # canary\n', '    split: { users: 10 }   # canary\n'));
    const before = readFileSync(file);
    const run = await gateway(['shift', 'thoughts', 'thoughts=30', '--file', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'the routes of group thoughts split to different new backends (my-thoughts: users; thoughts: thoughts), so the group cannot move as one: shift thoughts alone with --only',
    );
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('leaves a file that does not validate alone, and refuses when the audit log cannot be written', async () => {
    const broken = routesCopy(ORIGINAL.replace('deny: 404', 'deny: 200'));
    const run = await gateway(['shift', 'thoughts', 'thoughts=30', '--file', broken]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('does not validate as it is, so it is left alone; fix it first:');
    expect(run.stderr).toContain('routes[0] (admin).deny: 200 is not allowed');

    const file = routesCopy();
    const unwritable = path.join(path.dirname(file), 'audit-is-a-directory');
    mkdirSync(unwritable);
    const refused = await gateway(['shift', 'thoughts', 'thoughts=30', '--file', file], { GATEWAY_AUDIT_LOG: unwritable });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot open the audit log ${unwritable}`);
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
  });

  it('--dry-run prints the unified diff and why there is no estimate, and writes nothing', async () => {
    const file = routesCopy();
    const run = await gateway(['shift', 'thoughts', 'thoughts=30', '--dry-run', '--file', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`--- routes.yaml
+++ routes.yaml (after)
@@ -18,15 +18,15 @@
   - name: my-thoughts
     match: { path: /api/me/thoughts/** }
     group: thoughts
-    split: { thoughts: 10 }   # canary
+    split: { thoughts: 30 }   # canary
     fallback: legacy
 
   - name: thoughts
     match: { path: /api/thoughts/** }
     group: thoughts
     split:
-      thoughts: 10    # block style, with a comment
-      legacy: 90
+      thoughts: 30    # block style, with a comment
+      legacy: 70
     fallback: legacy
 
   - name: login
`);
    expect(run.stdout).toContain(`No estimate from recent clients: cannot reach the gateway's admin API at ${unreachableAdmin} (ECONNREFUSED)`);
    expect(run.stdout).toContain("  group thoughts (my-thoughts, thoughts): 20% of the group's clients expected to change backend\n");
    expect(run.stdout).toContain(`Dry run: ${file} was not written.\n`);
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
    expect(existsSync(auditOf(file))).toBe(false);
  });

  it('follows a symlinked routes file: the link stays, its target changes (ConfigMap-style mounts)', async () => {
    const target = routesCopy();
    const link = path.join(mkdtempSync(path.join(tmpdir(), 'gateway-ops-link-')), 'routes.yaml');
    symlinkSync(target, link);
    const run = await gateway(['shift', 'thoughts', 'thoughts=15', '--file', link]);
    expect(run.code, run.stderr).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toContain('split: { thoughts: 15 }   # canary');
  });
});

describe('gateway panic', () => {
  it('panic ROUTE sends its group to legacy, keeping the backends named for the way back', async () => {
    const file = routesCopy();
    const run = await gateway(['panic', 'my-thoughts', '--file', file, '--reason', '5xx']);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(
      ORIGINAL.replace('    split: { thoughts: 10 }   # canary\n', '    split: { thoughts: 0 }   # canary\n').replace(
        '      thoughts: 10    # block style, with a comment\n      legacy: 90\n',
        '      thoughts: 0    # block style, with a comment\n      legacy: 100\n',
      ),
    );
    expect(readFileSync(auditOf(file), 'utf8')).toContain(
      '"action":"panic","route":"thoughts","group":"thoughts","old":{"thoughts":10,"legacy":90},"new":{"thoughts":0,"legacy":100},"reason":"5xx"',
    );
  });

  it('panic --all covers every route; a second panic has nothing to do', async () => {
    const file = routesCopy(ORIGINAL.replace('    split: {}            # not started\n', '    split: { users: 5 }            # not started\n'));
    expect((await gateway(['panic', '--all', '--file', file])).code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('split: { users: 0 }            # not started');
    expect(text).toContain('split: { thoughts: 0 }   # canary');
    const again = await gateway(['panic', '--all', '--file', file]);
    expect(again.stdout).toBe('note: nothing to change: the plan already says this\n');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('asks for a route or --all', async () => {
    const run = await gateway(['panic', '--file', routesCopy()]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('panic needs one route, or --all for every route');
  });
});

describe('with a running gateway', () => {
  let system: OpsSystem;
  const token = 'ops-cli-token';
  let env: Record<string, string>;
  beforeAll(async () => {
    system = await startOpsSystem({ adminToken: token });
    env = { GATEWAY_ADMIN_URL: system.gateway.adminUrl!, GATEWAY_ADMIN_TOKEN: token };
  });
  afterAll(() => system.stop());

  it("shift --dry-run estimates the moved clients from the gateway's recent clients", async () => {
    await sendAsClients(system.gateway.url, '/api/thoughts/1', 250, 'cli');
    const run = await gateway(['shift', 'thoughts', 'thoughts=60', '--dry-run', '--file', system.gateway.routesFile], env);
    expect(run.code, run.stderr).toBe(0);
    const seed = groupSeed('ops-test', 'thoughts');
    const moving = Array.from({ length: 250 }, (_, i) => bucketOf(seed, cohortId(`cli-${i}`))).filter((b) => b >= 1000 && b < 6000).length;
    expect(run.stdout).toContain(`Recent clients (last 5 min, from ${system.gateway.adminUrl}):\n`);
    expect(run.stdout).toContain(
      `  group thoughts (my-thoughts, thoughts): ${moving} of 250 recent clients (${Math.round((moving / 250) * 1000) / 10}%) would change backend (legacy → thoughts ${moving}); 50% expected\n`,
    );
  });

  it('the CLI without the token is told to set GATEWAY_ADMIN_TOKEN', async () => {
    const run = await gateway(['routes', '--file', system.gateway.routesFile], { GATEWAY_ADMIN_URL: system.gateway.adminUrl! });
    expect(run.stdout).toContain(`No live numbers: the admin API at ${system.gateway.adminUrl} wants a token: set GATEWAY_ADMIN_TOKEN.`);
  });

  it('shift is picked up by the running gateway (file watch) and confirmed', async () => {
    const run = await gateway(['shift', 'thoughts', 'thoughts=100', '--file', system.gateway.routesFile], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`The gateway at ${system.gateway.adminUrl} runs the new split.`);
    const clients = await sendAsClients(system.gateway.url, '/api/me/thoughts/1', 20, 'after-shift');
    expect(new Set(clients.values())).toEqual(new Set(['thoughts']));
  });

  it('gateway routes prints the plan with the realised share, rate, 5xx and shadow columns', async () => {
    await sendAsClients(system.gateway.url, '/', 10, 'site');
    const run = await gateway(['routes', '--file', system.gateway.routesFile], env);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^ROUTE\s+MATCH\s+SPLIT\s+REALISED \(last \d+ s\)\s+REQ\/S\s+5XX\s+SHADOW MISMATCH$/);
    const row = (name: string) => lines.find((line) => line.startsWith(`${name} `))!.split(/\s{2,}/);
    expect(row('admin')).toEqual(['admin', '/admin/**', 'deny 404', '—', expect.any(String), '—', '—']);
    const thoughts = row('thoughts');
    expect(thoughts.slice(0, 3)).toEqual(['thoughts', '/api/thoughts/**', 'thoughts 100%, legacy 0%']);
    expect(thoughts[3]).toMatch(/^thoughts \d+(\.\d)?%, legacy \d+(\.\d)?%$/);
    expect(thoughts.slice(5)).toEqual(['0% (0)', '0']);
    expect(row('site').slice(2, 4)).toEqual(['legacy 100%', 'legacy 100%']);
    expect(row('login').slice(2, 4)).toEqual(['legacy 100%', '—']);
    expect(run.stdout).toMatch(/\nOn the new services: \d+(\.\d)?% of forwarded requests, from http:\/\/127\.0\.0\.1:\d+\.\n$/);
  });
});

describe('--help', () => {
  it('every ops command explains itself, and gateway --help lists them', async () => {
    const [routes, shift, panic, all] = await Promise.all([
      gateway(['routes', '--help']),
      gateway(['shift', '--help']),
      gateway(['panic', '-h']),
      gateway(['--help']),
    ]);
    for (const [run, command] of [
      [routes, 'routes'],
      [shift, 'shift'],
      [panic, 'panic'],
    ] as const) {
      expect(run.code).toBe(0);
      expect(run.stdout.startsWith(`Usage: gateway ${command}`)).toBe(true);
    }
    expect(shift.stdout).toContain('--dry-run');
    expect(all.stdout).toMatch(/ {2}routes +table of routes/);
    expect(all.stdout).toMatch(/ {2}shift +set a new backend's share/);
    expect(all.stdout).toMatch(/ {2}panic +send a route/);
  });
});
