import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './support/ports.ts';

/** `npm start` as a user runs it: real processes, real ports, the supervisor's own output. */
const root = path.resolve(import.meta.dirname, '..');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | NodeJS.Signals | null>;
}

function npmStart(env: NodeJS.ProcessEnv): Started {
  // Its own process group, so the test can press "Ctrl-C" the way a terminal does: SIGINT to the group.
  const child = spawn('npm', ['start', '--silent'], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  return { child, output: () => output, exited };
}

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('npm start', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-start-'));
  const ports: Record<string, string> = {};
  let started: Started;

  beforeAll(async () => {
    for (const name of ['LEGACY_PORT', 'USERS_PORT', 'THOUGHTS_PORT', 'GATEWAY_PORT', 'GATEWAY_ADMIN_PORT']) ports[name] = String(await freePort());
    started = npmStart({ ...ports, DATA_DIR: dataDir });
    await waitFor(() => started.output().includes('MyThoughts is up') || started.child.exitCode !== null, 'the system to start');
  }, 120_000);

  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('prints the URLs of every process once all of them answer', () => {
    const out = started.output();
    expect(out).toContain('MyThoughts is up');
    for (const port of Object.values(ports).slice(0, 4)) expect(out).toContain(`http://127.0.0.1:${port}/`);
  });

  it('serves the acceptance flow: login form, a token from the users service, identical lists from monolith and thoughts service', async () => {
    const loginPage = await (await fetch(`http://127.0.0.1:${ports.LEGACY_PORT}/login/`)).text();
    expect(loginPage).toContain('name="username"');
    const login = await fetch(`http://127.0.0.1:${ports.USERS_PORT}/api/login/`, { method: 'POST', body: new URLSearchParams({ username: 'bruce', password: 'password' }) });
    const { Authorized } = (await login.json()) as { Authorized: string };
    expect(Authorized).toMatch(/^Bearer /);
    const fromLegacy = await (await fetch(`http://127.0.0.1:${ports.LEGACY_PORT}/api/me/thoughts/`, { headers: { authorization: Authorized } })).text();
    const fromService = await (await fetch(`http://127.0.0.1:${ports.THOUGHTS_PORT}/api/me/thoughts/`, { headers: { authorization: Authorized } })).text();
    expect(JSON.parse(fromLegacy)).toHaveLength(3);
    expect(fromService).toBe(fromLegacy);
  });

  it('puts the gateway in front: the API answers through it and /admin is not public', async () => {
    const gateway = `http://127.0.0.1:${ports.GATEWAY_PORT}`;
    const thought = await fetch(`${gateway}/api/thoughts/1/`);
    expect(thought.status).toBe(200);
    expect(((await thought.json()) as { username: string }).username).toBe('bruce');
    expect((await fetch(`${gateway}/admin/users/`, { method: 'POST' })).status).toBe(404);
  });

  it('stops every process on Ctrl-C', async () => {
    process.kill(-started.child.pid!, 'SIGINT');
    // npm, having seen the SIGINT itself, ends by that signal once the supervisor has exited.
    expect(await started.exited).toBeOneOf([0, 'SIGINT']);
    expect(started.output()).not.toContain('stopped (');
    for (const port of Object.values(ports)) {
      await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    }
  });
});

describe('npm start with a port already in use', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    port = await freePort();
    blocker = createServer().listen(port, '127.0.0.1');
  });
  afterAll(() => blocker.close());

  it('names the port and the variable that changes it, and stops the others', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-start-'));
    const others: Record<string, string> = {};
    for (const name of ['LEGACY_PORT', 'THOUGHTS_PORT', 'GATEWAY_PORT', 'GATEWAY_ADMIN_PORT']) others[name] = String(await freePort());
    const started = npmStart({ ...others, USERS_PORT: String(port), DATA_DIR: dataDir });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain(`port ${port} on 127.0.0.1 is already in use: stop the other process or set USERS_PORT to another port`);
    expect(started.output()).not.toMatch(/at .*\.ts:\d+/); // no stack trace for an expected error
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);
});
