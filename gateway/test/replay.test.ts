import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTokenSigner } from '@mythoughts/runtime/tokens';
import { eventually } from '../../tests/support/rolloutTraffic.ts';
import { startSystem, type MyThoughtsSystem } from '../../tests/support/system.ts';
import { replayCommand } from '../src/cli/replay.ts';
import type { ReplaySuite } from '../src/replay/suite.ts';
import { startTestGateway, type TestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { thoughtsShadowPlan, waitForComparisons } from './helpers/shadow.ts';
import { startStandIn, type StandIn } from './helpers/standInService.ts';

const BIN = fileURLToPath(new URL('../bin/gateway.mjs', import.meta.url));

/** Both thoughts routes at 0 % on the new service, every read mirrored to `candidate`; my-thoughts mirrors its writes too when `writes`. */
function plan(system: MyThoughtsSystem, candidateUrl: string, writes: boolean): string {
  return thoughtsShadowPlan(system.legacyUrl, candidateUrl, {
    myThoughts: writes ? '{ to: thoughts, methods: [GET, POST], allow_writes: true, noise_percent: 0 }' : '{ to: thoughts, noise_percent: 0 }',
    thoughts: "{ to: thoughts, noise_percent: 0, ignore: ['$[*].timestamp'] }",
  });
}

let system: MyThoughtsSystem;
let candidate: StandIn;
let gateway: TestGateway;
let token: string;
let dir: string;

beforeAll(async () => {
  system = await startSystem('sqlite');
  candidate = await startStandIn(system.thoughtsUrl);
  // The candidate answers like the real thoughts service, but with every `text` rewritten.
  await candidate.set({ mode: 'altered' });
  gateway = await startTestGateway(plan(system, candidate.url, true), { jwtPublicKeyPem: system.publicKeyPem });
  token = createTokenSigner(system.privateKeyPem).sign('bruce');
  dir = mkdtempSync(path.join(tmpdir(), 'replay-test-'));
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await candidate?.close();
  await system?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** `gateway ARGS` as a user runs it; resolves with the exit code and both outputs. */
function gatewayCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const clean = { ...process.env, GATEWAY_ADMIN_URL: '', GATEWAY_ADMIN_TOKEN: '', GATEWAY_REPLAY_PASSWORD: '', NO_COLOR: '1', FORCE_COLOR: '' };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...clean, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

async function exportSuite(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return gatewayCli(['mismatches', 'export', '--admin', gateway.adminUrl!, ...args]);
}

function saved(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('recorded mismatches → exported suite → replay', () => {
  const secretCookie = 'session=cookie-secret-value; gw_cohort=cohort-secret-value';

  beforeAll(async () => {
    const mine = { authorization: `Bearer ${token}`, cookie: secretCookie, 'x-api-key': 'api-key-secret-value', accept: 'application/json' };
    // Two reads of the thoughts route (one as bruce, with every kind of secret), twice the same search (one case), a write on my-thoughts.
    for (const [url, headers] of [
      ['/api/thoughts/?search=few', {}],
      ['/api/thoughts/?search=few', {}],
      ['/api/thoughts/1/', mine],
    ] as const)
      expect((await send(`${gateway.url}${url}`, { headers })).status).toBe(200);
    const created = await send(`${gateway.url}/api/me/thoughts/`, {
      method: 'POST',
      headers: { ...mine, 'content-type': 'application/json' },
      body: '{"text":"replayed later"}',
    });
    expect(created.status).toBe(201);
    expect(await waitForComparisons(gateway, 'thoughts', 3)).toMatchObject({ mismatch: 3 });
    expect(await waitForComparisons(gateway, 'my-thoughts', 1)).toMatchObject({ mismatch: 1 });
  }, 30_000);

  it('exports each distinct request once, with the primary answer and the rules in force; no token, cookie or secret header in the file', async () => {
    const { code, stdout, stderr } = await exportSuite();
    expect(code).toBe(0);
    const suite = JSON.parse(stdout) as ReplaySuite;
    expect(suite.format).toBe('gateway-replay-suite/1');
    expect(suite.cases.map((c) => c.name)).toEqual([
      'thoughts: GET /api/thoughts/?search=few',
      'thoughts: GET /api/thoughts/1/',
      'my-thoughts: POST /api/me/thoughts/',
    ]);
    const [search, one, write] = suite.cases;
    expect(search!.expect).toMatchObject({ backend: 'legacy', status: 200, truncated: false, headers: { 'content-type': 'application/json' } });
    expect(Object.keys(search!.expect.headers)).toEqual(['content-type']);
    expect(JSON.parse(search!.expect.body)).toEqual(JSON.parse((await send(`${system.legacyUrl}/api/thoughts/?search=few`)).body));
    expect(search!.compare).toEqual({ headers: ['content-type', 'location', 'allow'], ignore: ['$[*].timestamp'], noise: [] });
    expect(search!.recordedDiff).toContain(
      '$[0].text: "A few seconds more and we\'ll know whether we have succeeded or not!" → "A few seconds more and we\'ll know whether we have succeeded or not! (rewritten)"',
    );
    expect(one!.request.headers).toMatchObject({ authorization: 'Bearer {{token:bruce}}', accept: 'application/json' });
    expect(one!.request.headers).not.toHaveProperty('cookie');
    expect(one!.request.headers).not.toHaveProperty('x-api-key');
    expect(write!.request).toMatchObject({ method: 'POST', body: '{"text":"replayed later"}' });
    for (const secret of [token, 'cookie-secret-value', 'cohort-secret-value', 'api-key-secret-value']) expect(stdout).not.toContain(secret);
    expect(stderr).toBe(`exported 3 cases from ${gateway.adminUrl}\n`);
  });

  it('--route keeps one route; the hurl format asserts the primary status, compared headers and body fields, with a login per user', async () => {
    const [json, hurl] = await Promise.all([exportSuite('--route', 'thoughts'), exportSuite('--route', 'thoughts', '--format', 'hurl')]);
    expect((JSON.parse(json.stdout) as ReplaySuite).cases.map((c) => c.route)).toEqual(['thoughts', 'thoughts']);
    expect(json.stderr).toBe(`exported 2 cases of route thoughts from ${gateway.adminUrl}\n`);
    expect(hurl.code).toBe(0);
    const text = hurl.stdout;
    expect(text).not.toContain(token);
    expect(text).not.toContain('my-thoughts');
    expect(text).toMatch(
      /^# Run: hurl --test --variable base_url=http:\/\/TARGET --variable login_url=http:\/\/LOGIN --variable password_bruce=PASSWORD FILE$/m,
    );
    expect(text).toContain(
      [
        'POST {{login_url}}/api/login/',
        'Content-Type: application/json',
        '{"username": "bruce", "password": "{{password_bruce}}"}',
        'HTTP 200',
        '[Captures]',
        'token_bruce: jsonpath "$.Authorized" regex "^Bearer (.+)$"',
      ].join('\n'),
    );
    const entry = text.slice(text.indexOf('GET {{base_url}}/api/thoughts/1/'));
    expect(entry.split('\n').slice(0, 8)).toEqual([
      'GET {{base_url}}/api/thoughts/1/',
      'accept: application/json',
      'authorization: Bearer {{token_bruce}}',
      'HTTP 200',
      '[Asserts]',
      'header "content-type" == "application/json"',
      'header "location" not exists',
      'header "allow" not exists',
    ]);
    expect(entry).toContain('jsonpath "$.id" == 1\n');
    expect(entry).toMatch(/^jsonpath "\$\.text" == "A few seconds more and we'll know whether we have succeeded or not!"$/m);
    // The search answer is a list: its length, then each item's fields except the ignored timestamps.
    const search = text.slice(text.indexOf('GET {{base_url}}/api/thoughts/?search=few'), text.indexOf('GET {{base_url}}/api/thoughts/1/'));
    expect(search).toContain('jsonpath "$" count == 2\njsonpath "$[0].id" == 1\n');
    expect(search).not.toContain('timestamp');
  });

  it('replays red against the candidate (exit 1, the field named) and green against the monolith, logging in as the recorded user', async () => {
    const suite = saved('thoughts.json', (await exportSuite('--route', 'thoughts')).stdout);
    const [red, green] = await Promise.all([
      gatewayCli(['replay', suite, '--against', candidate.url, '--token-for', 'bruce:password', '--login', system.legacyUrl]),
      gatewayCli(['replay', suite, '--against', system.legacyUrl, '--token-for', 'bruce'], { GATEWAY_REPLAY_PASSWORD: 'password' }),
    ]);
    expect(red.code).toBe(1);
    expect(red.stdout).toContain('  1. thoughts: GET /api/thoughts/?search=few  different\n');
    expect(red.stdout).toContain('       $[0].text: "A few seconds more and we\'ll know whether we have succeeded or not!" → "A few seconds more');
    expect(red.stdout).toContain('  2. thoughts: GET /api/thoughts/1/  different\n');
    expect(red.stdout).toMatch(/^ {7}\$\.text: ".*" → ".* \(rewritten\)"$/m);
    expect(red.stdout.trimEnd().split('\n').at(-1)).toBe('2 cases: 0 same, 2 different');
    expect(green).toMatchObject({ code: 0, stderr: '' });
    expect(green.stdout).toContain('  2. thoughts: GET /api/thoughts/1/  same\n');
    expect(green.stdout.trimEnd().split('\n').at(-1)).toBe('2 cases: 2 same, 0 different');
  });

  it('an accepted difference is still replayed and shown, but does not fail the run', async () => {
    const suite = JSON.parse((await exportSuite('--route', 'thoughts')).stdout) as ReplaySuite;
    const file = saved('accepted.json', JSON.stringify({ ...suite, cases: [{ ...suite.cases[0], accepted: 'rewritten on purpose' }, suite.cases[1]] }));
    const [partly, wholly] = await Promise.all([
      gatewayCli(['replay', file, '--against', candidate.url, '--token', `bruce=${token}`]),
      gatewayCli(['replay', file, '--against', system.legacyUrl, '--token', `bruce=${token}`]),
    ]);
    expect(partly.code).toBe(1);
    expect(partly.stdout).toContain('  1. thoughts: GET /api/thoughts/?search=few  accepted difference (rewritten on purpose)\n       recorded (legacy) 200');
    expect(partly.stdout.trimEnd().split('\n').at(-1)).toBe('2 cases: 0 same, 1 different, 1 accepted');
    expect(wholly.code).toBe(0);
    expect(wholly.stdout).toContain('  1. thoughts: GET /api/thoughts/?search=few  same (marked accepted, but it no longer differs: the mark can go)\n');
    const onlyAccepted = saved('only-accepted.json', JSON.stringify({ ...suite, cases: [{ ...suite.cases[0], accepted: 'rewritten on purpose' }] }));
    const clean = await gatewayCli(['replay', onlyAccepted, '--against', candidate.url]);
    expect(clean.code).toBe(0);
    expect(clean.stdout.trimEnd().split('\n').at(-1)).toBe('1 case: 0 same, 0 different, 1 accepted');
  });

  it('exports only reads once the route no longer mirrors writes, saying what it left out', async () => {
    gateway.rewrite(plan(system, candidate.url, false));
    await eventually('the plan without mirrored writes', 5_000, async () => {
      const reply = await send(`${gateway.adminUrl}/api/shadow/mismatches?route=my-thoughts`);
      const rules = reply.json<{ rules: Record<string, { methods: string[] }> }>().rules;
      return rules['my-thoughts']?.methods.includes('POST') === false ? true : undefined;
    });
    const { code, stdout, stderr } = await exportSuite();
    expect(code).toBe(0);
    expect((JSON.parse(stdout) as ReplaySuite).cases.map((c) => c.request.method)).toEqual(['GET', 'GET']);
    expect(stderr).toContain("  left out: POST /api/me/thoughts/ (route my-thoughts): a write, and the route's shadow does not allow writes\n");
  });

  it('exits 2 on usage errors, a token nobody gave, or a file that is not a suite, before sending anything', async () => {
    const suite = saved('again.json', (await exportSuite('--route', 'thoughts')).stdout);
    const notSuite = saved('not-suite.json', '{"cases": []}');
    const written: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((text) => written.push(String(text)) > 0);
    vi.stubEnv('GATEWAY_REPLAY_PASSWORD', '');
    const served = candidate.served();
    const codes: number[] = [];
    try {
      for (const args of [
        [suite],
        [suite, '--against', candidate.url],
        [suite, '--against', candidate.url, '--token-for', 'bruce'],
        [notSuite, '--against', candidate.url],
        [path.join(dir, 'missing.json'), '--against', candidate.url],
        [suite, '--against', 'ftp://x'],
      ])
        codes.push(await replayCommand.run(args));
    } finally {
      vi.unstubAllEnvs();
      stderr.mockRestore();
    }
    expect(codes).toEqual([2, 2, 2, 2, 2, 2]);
    expect(written.map((text) => text.split('\n')[0])).toEqual([
      'gateway replay: --against URL is required: the service to send the suite to',
      `gateway replay: the suite sends requests as bruce: give a token with --token-for bruce (logs in at ${candidate.url}) or --token USER=TOKEN`,
      'gateway replay: no password to log in as bruce: write --token-for bruce:PASSWORD or set GATEWAY_REPLAY_PASSWORD',
      `gateway replay: ${notSuite}: format: must be "gateway-replay-suite/1": this file is not a suite 'gateway mismatches export' wrote`,
      `gateway replay: cannot read ${path.join(dir, 'missing.json')}: ENOENT`,
      'gateway replay: --against ftp://x must be an http:// or https:// URL',
    ]);
    expect(candidate.served()).toBe(served);
  });
});
