// DNS rebinding on the admin port: a page whose name resolves to 127.0.0.1 reaches the port
// from the operator's browser with its own name as Host and Origin. Real gateway, real files.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from '../src/gateway.ts';
import { send, type Reply } from './helpers/http.ts';
import { startOpsSystem, type OpsSystem } from './helpers/opsFixture.ts';

const JSON_HEADERS = { 'content-type': 'application/json' };

function adminPort(system: OpsSystem): number {
  return Number(new URL(system.gateway.adminUrl!).port);
}

/** A request to the admin port (always over 127.0.0.1) claiming `host` as its Host. */
function asHost(
  system: OpsSystem,
  host: string,
  pathname: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Reply> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return send(`http://127.0.0.1:${adminPort(system)}${pathname}`, {
    method: options.method ?? 'GET',
    headers: { ...(body ? JSON_HEADERS : {}), ...options.headers, host },
    body,
  });
}

describe('the admin port without a token answers only its own loopback names', () => {
  let system: OpsSystem;
  let auditFile: string;
  beforeAll(async () => {
    system = await startOpsSystem();
    auditFile = path.join(path.dirname(system.gateway.routesFile), 'routes.audit.jsonl');
  });
  afterAll(() => system.stop());

  it('refuses the rebinding attack: Host attacker.example:PORT with the matching Origin cannot shift traffic, routes.yaml unchanged', async () => {
    const before = readFileSync(system.gateway.routesFile, 'utf8');
    const host = `attacker.example:${adminPort(system)}`;
    for (const [pathname, body] of [
      ['/api/routes/thoughts/split', { backend: 'thoughts', percent: 100 }],
      ['/api/panic', { all: true }],
    ] as const) {
      const reply = await asHost(system, host, pathname, { method: 'POST', headers: { origin: `http://${host}` }, body });
      expect(reply.status).toBe(421);
      expect(reply.json<{ message: string }>().message).toContain(`Host '${host}' is not this admin port: use http://127.0.0.1:${adminPort(system)}/`);
    }
    expect(readFileSync(system.gateway.routesFile, 'utf8')).toBe(before);
    expect(existsSync(auditFile)).toBe(false);
    expect(
      system.gateway
        .table()
        .routes.find((r) => r.name === 'thoughts')!
        .shares.map((s) => s.ratio),
    ).toEqual([0.1, 0.9]);
  });

  it.each(['/api/plan', '/api/stats', '/api/audit', '/api/recent-clients', '/api/shadow/mismatches', '/metrics', '/'])(
    'refuses reads of %s under a foreign Host',
    async (pathname) => {
      const reply = await asHost(system, `attacker.example:${adminPort(system)}`, pathname);
      expect(reply.status).toBe(421);
      expect(reply.body).not.toContain('thoughts');
    },
  );

  it('refuses a Host naming this machine another way, or another port', async () => {
    for (const host of [
      `127.0.0.2:${adminPort(system)}`,
      `localhost.:${adminPort(system)}`,
      `127.0.0.1:${adminPort(system) + 1}`,
      '127.0.0.1',
      `0.0.0.0:${adminPort(system)}`,
    ]) {
      expect((await asHost(system, host, '/api/plan')).status, host).toBe(421);
    }
  });

  it('serves 127.0.0.1:PORT, localhost:PORT and [::1]:PORT (any letter case)', async () => {
    for (const host of [`127.0.0.1:${adminPort(system)}`, `localhost:${adminPort(system)}`, `LocalHost:${adminPort(system)}`, `[::1]:${adminPort(system)}`]) {
      const reply = await asHost(system, host, '/api/plan');
      expect(reply.status, host).toBe(200);
      expect(reply.json<{ routes: unknown[] }>().routes).toHaveLength(5);
    }
  });

  it('refuses a foreign Origin on reads and writes even with the right Host', async () => {
    const host = `127.0.0.1:${adminPort(system)}`;
    const before = readFileSync(system.gateway.routesFile, 'utf8');
    for (const origin of ['http://attacker.example', `https://${host}`, 'null', `http://${host}.attacker.example`]) {
      const read = await asHost(system, host, '/api/plan', { headers: { origin } });
      expect(read.status, origin).toBe(403);
      expect(read.json<{ message: string }>().message).toContain(`cross-origin request from ${origin} refused`);
      const write = await asHost(system, host, '/api/panic', { method: 'POST', headers: { origin }, body: { all: true } });
      expect(write.status, origin).toBe(403);
    }
    expect(readFileSync(system.gateway.routesFile, 'utf8')).toBe(before);
    // The dashboard's own origin is fine (what a browser on the page sends with its POSTs).
    const own = await asHost(system, host, '/api/panic', {
      method: 'POST',
      headers: { origin: `http://localhost:${adminPort(system)}` },
      body: { all: true, dryRun: true },
    });
    expect(own.status).toBe(200);
  });

  it('keeps the probes open under any Host (kubelet and load balancers use the pod address)', async () => {
    for (const pathname of ['/livez', '/healthz', '/readyz']) {
      expect((await asHost(system, 'attacker.example', pathname)).status, pathname).toBe(200);
    }
  });
});

describe('the admin port with a token and GATEWAY_ADMIN_HOSTS', () => {
  let system: OpsSystem;
  const token = 'admin-token-for-hosts-test';
  beforeAll(async () => {
    system = await startOpsSystem({ adminToken: token, adminHosts: ['gateway-admin.internal', 'ops.example:443'] });
  });
  afterAll(() => system.stop());

  it('answers the configured names (port added when not given) with the token, and only those', async () => {
    const bearer = { authorization: `Bearer ${token}` };
    for (const host of [`gateway-admin.internal:${adminPort(system)}`, 'ops.example:443', `127.0.0.1:${adminPort(system)}`]) {
      expect((await asHost(system, host, '/metrics', { headers: bearer })).status, host).toBe(200);
    }
    expect((await asHost(system, `gateway-admin.internal:${adminPort(system)}`, '/metrics')).status).toBe(401);
    expect((await asHost(system, `attacker.example:${adminPort(system)}`, '/metrics', { headers: bearer })).status).toBe(421);
    expect((await asHost(system, 'ops.example:444', '/api/plan', { headers: bearer })).status).toBe(421);
  });

  it('refuses GATEWAY_ADMIN_HOSTS without a token, before listening', async () => {
    await expect(
      startGateway({ routesFile: system.gateway.routesFile, port: 0, adminPort: 0, adminHosts: ['gateway-admin.internal'], defaultMetrics: false }),
    ).rejects.toThrow(
      'GATEWAY_ADMIN_HOSTS needs GATEWAY_ADMIN_TOKEN: without a token the admin port answers only its own loopback names (127.0.0.1, localhost, [::1])',
    );
  });
});

describe('cluster mode checks the admin exposure before forking', () => {
  it('GATEWAY_WORKERS=2 with a non-loopback admin host and no token exits 1 with the one-process message, and forks no worker', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GATEWAY_WORKERS: '2',
      GATEWAY_ADMIN_HOST: '0.0.0.0',
      GATEWAY_PORT: '0',
      GATEWAY_ADMIN_PORT: '0',
      LOG_LEVEL: 'info',
    };
    delete env.GATEWAY_ADMIN_TOKEN;
    const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/gateway.mjs', import.meta.url)), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(code).toBe(1);
    expect(output).toContain('the admin port would listen on 0.0.0.0 without a token: set GATEWAY_ADMIN_TOKEN, or leave GATEWAY_ADMIN_HOST unset (127.0.0.1)');
    expect(output).not.toContain('worker');
    expect(output).not.toContain('listening');
  });
});
