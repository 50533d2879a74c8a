import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delay } from '../bench/processes.ts';
import { startLoad } from '../faults/load.ts';
import { planWith } from './support/gatewayInFront.ts';
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
    const login = await fetch(`http://127.0.0.1:${ports.USERS_PORT}/api/login/`, {
      method: 'POST',
      body: new URLSearchParams({ username: 'bruce', password: 'password' }),
    });
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

describe('npm start when a process dies (thoughts at 100 %, fallback legacy)', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-start-'));
  const routesFile = path.join(dataDir, 'routes.yaml');
  const ports: Record<string, string> = {};
  let started: Started;
  const pidOf = (name: string) => [...started.output().matchAll(new RegExp(`started ${name} \\(pid (\\d+)\\)`, 'g'))].map((m) => Number(m[1]));

  beforeAll(async () => {
    for (const name of ['LEGACY_PORT', 'USERS_PORT', 'THOUGHTS_PORT', 'GATEWAY_PORT', 'GATEWAY_ADMIN_PORT']) ports[name] = String(await freePort());
    writeFileSync(routesFile, planWith(path.join(root, 'routes.yaml'), { users: 100, thoughts: 100 }));
    started = npmStart({ ...ports, DATA_DIR: dataDir, GATEWAY_ROUTES: routesFile, START_MAX_RESTARTS: '2' });
    await waitFor(() => started.output().includes('MyThoughts is up') || started.child.exitCode !== null, 'the system to start');
  }, 120_000);

  afterAll(async () => {
    // Only if a test failed before the Ctrl-C test could stop it.
    if (started.child.exitCode === null && started.child.signalCode === null) {
      process.kill(-started.child.pid!, 'SIGINT');
      await started.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('restarts the killed thoughts service while the monolith and the gateway keep serving: 0 failed GETs, and says so', async () => {
    const gateway = `http://127.0.0.1:${ports.GATEWAY_PORT}`;
    const [thoughtsPid] = pidOf('thoughts');
    expect(thoughtsPid).toBeGreaterThan(0);
    const load = startLoad({ baseUrl: gateway, paths: ['/api/thoughts/', '/api/thoughts/1/'], clients: 4 });
    await delay(1000);
    process.kill(thoughtsPid!, 'SIGKILL');
    await delay(3000);
    const { tried, failures } = await load.stop();
    expect(failures).toEqual([]);
    expect(tried).toBeGreaterThan(20);
    await waitFor(() => started.output().includes('thoughts is back'), 'the thoughts service to come back', 30_000);
    const out = started.output();
    expect(out).toContain('thoughts stopped (SIGKILL); the others keep running; restarting it in 0.5 s (restart 1 of at most 2 in a row)');
    expect(out).toMatch(new RegExp(`thoughts is back \\(pid \\d+\\): http://127.0.0.1:${ports.THOUGHTS_PORT}/healthz answers`));
    expect(pidOf('thoughts')).toHaveLength(2);
    for (const name of ['legacy', 'users', 'gateway']) expect(pidOf(name), name).toHaveLength(1);
    expect((await fetch(`http://127.0.0.1:${ports.THOUGHTS_PORT}/api/thoughts/1/`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${ports.LEGACY_PORT}/login/`)).status).toBe(200);
  }, 60_000);

  it('gives up on a process that keeps failing to start, names it, and keeps the others serving', async () => {
    const [, thoughtsPid] = pidOf('thoughts');
    process.kill(thoughtsPid!, 'SIGKILL');
    await waitFor(
      () => started.output().includes('restart 1 of at most 2 in a row') && started.output().split('thoughts stopped (SIGKILL)').length === 3,
      'the second kill to be seen',
      10_000,
    );
    // Its port taken: every restart fails at start-up the way a broken deployment would.
    const blocker = createServer().listen(Number(ports.THOUGHTS_PORT), '127.0.0.1');
    try {
      await waitFor(() => started.output().includes('the others keep running without thoughts'), 'the supervisor to give up', 30_000);
      const out = started.output();
      expect(out).toContain(`port ${ports.THOUGHTS_PORT} on 127.0.0.1 is already in use`);
      expect(out).toContain('thoughts stopped (exit 1) and gave up: it failed 3 times in a row');
      expect(started.child.exitCode).toBeNull();
      const load = startLoad({ baseUrl: `http://127.0.0.1:${ports.GATEWAY_PORT}`, paths: ['/api/thoughts/', '/api/thoughts/1/'], clients: 4 });
      await delay(1000);
      const { tried, failures } = await load.stop();
      expect(failures).toEqual([]); // the monolith answers for the given-up service
      expect(tried).toBeGreaterThan(0);
      expect((await fetch(`http://127.0.0.1:${ports.USERS_PORT}/healthz`)).status).toBe(200);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('still stops everything on Ctrl-C', async () => {
    process.kill(-started.child.pid!, 'SIGINT');
    expect(await started.exited).toBeOneOf([0, 'SIGINT']);
    for (const name of ['LEGACY_PORT', 'USERS_PORT', 'GATEWAY_PORT']) {
      await expect(fetch(`http://127.0.0.1:${ports[name]}/healthz`)).rejects.toThrow();
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

  it('names the port and the variable that changes it, retries, gives up and stops the others', async () => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-start-'));
    const others: Record<string, string> = {};
    for (const name of ['LEGACY_PORT', 'THOUGHTS_PORT', 'GATEWAY_PORT', 'GATEWAY_ADMIN_PORT']) others[name] = String(await freePort());
    const started = npmStart({ ...others, USERS_PORT: String(port), DATA_DIR: dataDir, START_MAX_RESTARTS: '1' });
    expect(await started.exited).toBe(1);
    expect(started.output()).toContain(`port ${port} on 127.0.0.1 is already in use: stop the other process or set USERS_PORT to another port`);
    expect(started.output()).toContain('users stopped (exit 1); the others keep running; restarting it in 0.5 s (restart 1 of at most 1 in a row)');
    expect(started.output()).toContain('npm start: users failed 2 times in a row (last: exit 1); stopped everything');
    expect(started.output()).not.toMatch(/at .*\.ts:\d+/); // no stack trace for an expected error
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);
});
