import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTokenSigner } from '@mythoughts/runtime/tokens';
import { startSystem, type MyThoughtsSystem } from '../../tests/support/system.ts';
import { compareCommand } from '../src/cli/compare.ts';
import { closedPort } from './helpers/backends.ts';
import { startReversedThoughts } from './helpers/reversedThoughts.ts';

const BIN = fileURLToPath(new URL('../bin/gateway.mjs', import.meta.url));

let system: MyThoughtsSystem;
let reversed: { url: string; close(): Promise<void> };

beforeAll(async () => {
  system = await startSystem('sqlite');
  reversed = await startReversedThoughts(system.thoughtsUrl);
}, 60_000);

afterAll(async () => {
  await reversed?.close();
  await system?.stop();
});

/** `gateway compare …` as a user runs it, with the shipped routes.yaml and the back ends' URLs from the environment. */
function compare(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const backends = {
    GATEWAY_BACKEND_LEGACY_URL: system.legacyUrl,
    GATEWAY_BACKEND_USERS_URL: system.usersUrl,
    GATEWAY_BACKEND_THOUGHTS_URL: system.thoughtsUrl,
  };
  const clean = { ...process.env, GATEWAY_ROUTES: '', NO_COLOR: '', FORCE_COLOR: '' };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'compare', ...args], { env: { ...clean, ...backends, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('gateway compare', () => {
  it('exits 0 on the real system: the monolith and the thoughts service answer the same', async () => {
    const [search, mine] = await Promise.all([
      compare(['GET', '/api/thoughts/?search=few']),
      compare([
        'GET',
        '/api/me/thoughts/',
        '--header',
        `Authorization: Bearer ${createTokenSigner(system.privateKeyPem).sign('bruce')}`,
        '--backends',
        'legacy,thoughts',
      ]),
    ]);
    expect(search).toMatchObject({ code: 0, stderr: '' });
    const lines = search.stdout.trim().split('\n');
    expect(lines[0]).toBe('GET /api/thoughts/?search=few  (route thoughts)');
    expect(lines[1]).toMatch(/^ {2}legacy +200 +305 bytes +\d+ ms {2}http:\/\/127\.0\.0\.1:\d+$/);
    expect(lines[2]).toMatch(/^ {2}thoughts +200 +305 bytes/);
    expect(lines.at(-1)).toBe('equal');
    expect(mine).toMatchObject({ code: 0 });
    expect(mine.stdout).toMatch(/legacy +200 /);
  });

  it('exits 1 against a candidate that lists newest first, naming the differing fields; colour only when asked', async () => {
    const [plain, coloured] = await Promise.all([
      compare(['GET', '/api/thoughts/?search=few'], { GATEWAY_BACKEND_THOUGHTS_URL: reversed.url }),
      compare(['GET', '/api/thoughts/?search=few'], { GATEWAY_BACKEND_THOUGHTS_URL: reversed.url, FORCE_COLOR: '1' }),
    ]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain('different: 6 differences (legacy → thoughts)');
    expect(plain.stdout).toContain('  $[0].id: 1 → 3\n');
    expect(plain.stdout).toContain('  $[1].id: 3 → 1\n');
    expect(plain.stdout).toMatch(/ {2}\$\[0\]\.text: "A few seconds more.*" → "In a few seconds/);
    expect(plain.stdout).not.toContain('\u001b[');
    expect(coloured.code).toBe(1);
    expect(coloured.stdout).toContain('\u001b[1m$[0].id\u001b[22m: \u001b[31m1\u001b[39m → \u001b[32m3\u001b[39m');
  });

  it('applies --ignore rules', async () => {
    const result = await compare(['GET', '/api/thoughts/?search=few', '--ignore', '$[*].id', '--ignore', '$[*].text', '--ignore', 'timestamp'], {
      GATEWAY_BACKEND_THOUGHTS_URL: reversed.url,
    });
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('ignored: $[*].id, $[*].text, timestamp\nequal\n');
  });

  it('exits 2 when a backend gives no answer, saying why', async () => {
    const port = await closedPort();
    const result = await compare(['GET', '/api/thoughts/'], { GATEWAY_BACKEND_THOUGHTS_URL: `http://127.0.0.1:${port}` });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`gateway compare: cannot compare: thoughts refused the connection at http://127.0.0.1:${port} (is it running?)\n`);
  });

  it('exits 2 on usage errors, saying what is allowed', async () => {
    // The same command object the CLI dispatches to, run in this process (a process each would cost seconds).
    const written: string[] = [];
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((text) => written.push(String(text)) > 0);
    vi.stubEnv('GATEWAY_ROUTES', '');
    const codes: number[] = [];
    try {
      for (const args of [
        ['GET'],
        ['FETCH', '/api/thoughts/'],
        ['POST', '/api/me/thoughts/', '--data', '{"text":"x"}'],
        ['GET', '/thoughts/'],
        ['GET', '/api/thoughts/', '--backends', 'legacy,thoughtz'],
        ['GET', '/api/thoughts/', '--ignore', '$.a[x]'],
        ['GET', '/api/thoughts/', '--colour'],
      ]) {
        codes.push(await compareCommand.run(args));
      }
    } finally {
      vi.unstubAllEnvs();
      stderr.mockRestore();
    }
    expect(codes).toEqual([2, 2, 2, 2, 2, 2, 2]);
    expect(written.map((text) => text.split('\n')[0])).toEqual([
      'gateway compare: compare takes METHOD and PATH, got 1 argument',
      "gateway compare: 'FETCH' is not a method; allowed: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
      'gateway compare: POST changes data and would be sent to both backends (twice the write while they share a database); add --allow-write if that is what you want',
      'gateway compare: route site has no new backend in its split or shadow; pass --backends legacy,<new backend>',
      "gateway compare: unknown backend 'thoughtz' in --backends; allowed: legacy, users, thoughts",
      expect.stringMatching(/^gateway compare: --ignore '\$\.a\[x\]' is not understood/),
      expect.stringMatching(/^gateway compare: Unknown option '--colour'/),
    ]);
  });
});
