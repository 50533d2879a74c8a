import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeDevSecrets } from '../../deploy/make-dev-secrets.mjs';
import { PROCESSES } from '../../deploy/docker/processes.mjs';
import { signOverrideToken } from '../../gateway/src/decide/overrideToken.ts';
import { etcdSettingsFromEnv } from '../../gateway/src/etcd/etcdSettings.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../support/etcd.ts';
import { endProcess } from '../support/gatewayProcess.ts';
import { freePort } from '../support/ports.ts';
import { waitHealthy } from '../support/processes.ts';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver } from '../support/otlpReceiver.ts';
import { createDatabase } from '../support/postgres.ts';
import { eventually } from '../support/rolloutTraffic.ts';
import { environmentOf, nativeCommand, nativeEnv, planPushOf, readCompose, REPO_ROOT, serverServices } from './composeEnv.ts';
import { nativeHaproxyConfig, readHaproxyConfig } from './haproxyConfig.ts';

/**
 * The system as docker-compose runs it, without Docker: etcd, the one-shot plan push, the back
 * ends on PostgreSQL, two gateway replicas and HAProxy in front of them, each natively with
 * exactly the environment (or configuration) its compose service gives it — keys and the admin
 * token from secret files, traces to an OTLP receiver standing in for Jaeger — then a smoke flow
 * through HAProxy, a shift on one replica served by the other, and a replica killed.
 */
describe('production-shaped: the compose fleet, run natively (etcd, plan push, PostgreSQL, two gateways behind HAProxy)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-prod-'));
  const compose = readCompose();
  const servers = serverServices(compose);
  const replicas = Object.keys(servers).filter((name) => servers[name] === 'gateway');
  const children = new Map<string, ChildProcess>();
  const ports: Record<string, number> = {};
  const adminPorts: Record<string, number> = {};
  const adminUrl = (replica: string) => `http://127.0.0.1:${adminPorts[replica]}`;
  let publicUrl = '';
  let statsUrl = '';
  let adminToken = '';
  let overrideSecret = '';
  let receiver: OtlpReceiver;
  let etcd: ThrowawayEtcd;

  const admin = (replica: string, apiPath: string, init: RequestInit = {}) =>
    fetch(`${adminUrl(replica)}${apiPath}`, { ...init, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' } });
  const servedVersion = async (replica: string) => ((await (await admin(replica, '/api/plan')).json()) as { version: string }).version;
  /** HAProxy's view of each gateway server: UP, DOWN… (its stats CSV). */
  const serverStates = async () => {
    const csv = await (await fetch(`${statsUrl};csv`)).text();
    return Object.fromEntries(
      csv
        .split('\n')
        .map((line) => line.split(','))
        .filter(([backend, server]) => backend === 'gateways' && replicas.includes(server!))
        .map((fields) => [fields[1]!, fields[17]!]),
    );
  };

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    etcd = await startThrowawayEtcd();
    const secretsDir = path.join(dir, 'secrets');
    makeDevSecrets(secretsDir);
    const databaseUrl = await createDatabase(inject('postgresAdminUrl'));
    for (const name of Object.keys(servers)) ports[name] = await freePort();
    for (const name of replicas) adminPorts[name] = await freePort();
    const push = planPushOf(compose).service;
    const etcdHost = new URL(etcdSettingsFromEnv(environmentOf(compose.services[push]!))!.hosts[0]!).host;
    const endpoints = {
      [etcdHost]: etcd.endpoint,
      ...Object.fromEntries(replicas.map((name) => [`${name}:${environmentOf(compose.services[name]!).GATEWAY_ADMIN_PORT}`, `127.0.0.1:${adminPorts[name]}`])),
    };
    const options = {
      secretsDir,
      ports,
      databaseUrl,
      dataDir: path.join(dir, 'data'),
      otlpEndpoint: receiver.endpoint,
      endpoints,
      volumesDir: path.join(dir, 'volumes'),
    };

    // plan-push first, as compose runs it once etcd is healthy: the committed plan into etcd.
    const [, ...args] = nativeCommand(push);
    const pushed = spawnSync(process.execPath, args, { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...nativeEnv(push, options) }, encoding: 'utf8' });
    expect(pushed.status, `${push}: ${pushed.stdout}${pushed.stderr}`).toBe(0);

    // The monolith first: it is the one compose lets seed the demo data; the gateways last.
    const order = Object.keys(servers).sort((a, b) => rank(servers[a]!) - rank(servers[b]!));
    for (const name of order) {
      const env = nativeEnv(name, { ...options, gatewayAdminPort: adminPorts[name] });
      const spec = PROCESSES[servers[name]!];
      // A short export batch delay, so the test need not wait the SDK's default 5 s.
      const childEnv = { PATH: process.env.PATH, OTEL_BSP_SCHEDULE_DELAY: '200', ...env };
      const child = spawn(process.execPath, ['--import', 'tsx', ...spec.entry], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
      children.set(name, child);
      const port = servers[name] === 'gateway' ? adminPorts[name]! : ports[name]!;
      await waitHealthy(`http://127.0.0.1:${port}${spec.healthPath}`, child);
      if (servers[name] === 'gateway') {
        adminToken = env.GATEWAY_ADMIN_TOKEN!;
        overrideSecret = env.GATEWAY_OVERRIDE_SECRET!;
      }
    }

    // HAProxy with the shipped config, its binds and servers on this machine's ports.
    const config = readHaproxyConfig();
    const [haproxyPort, statsPort] = [await freePort(), await freePort()];
    const configFile = path.join(dir, 'haproxy.cfg');
    writeFileSync(
      configFile,
      nativeHaproxyConfig(
        { [config.bindPort]: haproxyPort, [config.statsPort]: statsPort },
        Object.fromEntries(replicas.map((name) => [name, { port: ports[name]!, adminPort: adminPorts[name]! }])),
      ),
    );
    const haproxy = spawn('haproxy', ['-db', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.set('haproxy', haproxy);
    publicUrl = `http://127.0.0.1:${haproxyPort}`;
    statsUrl = `http://127.0.0.1:${statsPort}/stats`;
    await waitHealthy(statsUrl, haproxy);
    await eventually('HAProxy sees every replica UP', 20_000, async () =>
      Object.values(await serverStates()).filter((state) => state === 'UP').length === replicas.length ? true : undefined,
    );
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...children.values()].map((child) => endProcess(child)));
    await etcd?.close();
    rmSync(dir, { recursive: true, force: true });
    await receiver?.close();
  });

  it("a shift made on one replica's admin API is served by every replica (one plan, in etcd)", async () => {
    const [first, ...others] = replicas;
    for (const route of ['login', 'thoughts-api']) {
      const backend = route === 'login' ? 'users' : 'thoughts';
      const reply = await admin(first!, `/api/routes/${route}/split`, {
        method: 'POST',
        body: JSON.stringify({ backend, percent: 100, reason: 'production-shaped test' }),
      });
      expect(reply.status, await reply.clone().text()).toBe(200);
    }
    const version = await servedVersion(first!);
    for (const other of others)
      await eventually(`${other} serves version ${version}`, 10_000, async () => ((await servedVersion(other)) === version ? true : undefined));
  });

  it('serves the smoke flow through HAProxy, the new services taking the API', async () => {
    const login = await fetch(`${publicUrl}/api/login/`, { method: 'POST', body: new URLSearchParams({ username: 'bruce', password: 'password' }) });
    expect(login.status).toBe(200);
    const { Authorized } = (await login.json()) as { Authorized: string };
    const mine = (await (await fetch(`${publicUrl}/api/me/thoughts/`, { headers: { authorization: Authorized } })).json()) as unknown[];
    expect(mine).toHaveLength(3);
    const posted = await fetch(`${publicUrl}/api/me/thoughts/`, {
      method: 'POST',
      headers: { authorization: Authorized },
      body: new URLSearchParams({ text: 'in production' }),
    });
    expect(posted.status).toBe(201);
    const { id } = (await posted.json()) as { id: number };
    // Written through the thoughts service, read back from the monolith: one database.
    const fromLegacy = await fetch(`http://127.0.0.1:${ports['legacy-monolith']}/api/thoughts/${id}/`);
    expect(((await fromLegacy.json()) as { text: string }).text).toBe('in production');
    expect(await (await fetch(`${publicUrl}/login/`)).text()).toMatch(/<legend[^>]*>Login<\/legend>/);
    expect((await fetch(`${publicUrl}/admin/users/`, { method: 'POST' })).status).toBe(404);
  });

  it('HAProxy deals requests to every replica', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4 * replicas.length; i++) {
      const reply = await fetch(`${publicUrl}/api/thoughts/1/`);
      expect(reply.status).toBe(200);
      seen.add(reply.headers.get('x-gateway-replica')!);
    }
    expect([...seen].sort()).toEqual([...replicas].sort());
  });

  it('honours a tester override signed with the secret from its secret file', async () => {
    const token = signOverrideToken(overrideSecret, 'legacy', Math.floor(Date.now() / 1000) + 60);
    const asked = await fetch(`${publicUrl}/api/thoughts/1/`, { headers: { 'x-gateway-backend': 'legacy', 'x-gateway-override': token } });
    expect(asked.status).toBe(200);
    const replica = asked.headers.get('x-gateway-replica')!;
    const metrics = await (await admin(replica, '/metrics')).text();
    expect(metrics).toMatch(/gateway_requests_total\{route="thoughts-api",backend="legacy",decision="override",code="2xx"\} 1/);
  });

  it('keeps the admin ports behind the token from its secret file', async () => {
    for (const replica of replicas) {
      expect((await fetch(`${adminUrl(replica)}/metrics`)).status).toBe(401);
      const metrics = await admin(replica, '/metrics');
      expect(metrics.status).toBe(200);
    }
  });

  it('exports one trace per request: the gateway, the service behind it and its PostgreSQL queries', async () => {
    const traceId = 'c0ffee'.padEnd(32, '0');
    const reply = await fetch(`${publicUrl}/api/thoughts/1/`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    expect(reply.status).toBe(200);
    const spans = (
      await receiver.waitFor(
        (all) =>
          all.some((s) => s.traceId === traceId && s.attributes['db.system.name'] === 'postgresql') &&
          all.some((s) => s.traceId === traceId && s.service === 'gateway' && s.kind === SPAN_KIND.server),
      )
    ).filter((s) => s.traceId === traceId);
    const gatewaySpan = spans.find((s) => s.service === 'gateway' && s.kind === SPAN_KIND.server)!;
    const attempt = spans.find((s) => s.service === 'gateway' && s.kind === SPAN_KIND.client)!;
    const service = spans.find((s) => s.service === 'thoughts' && s.kind === SPAN_KIND.server)!;
    const query = spans.find((s) => s.attributes['db.system.name'] === 'postgresql')!;
    expect([gatewaySpan.parentSpanId, attempt.parentSpanId, service.parentSpanId, query.parentSpanId]).toEqual([
      '00f067aa0ba902b7',
      gatewaySpan.spanId,
      attempt.spanId,
      service.spanId,
    ]);
    expect(gatewaySpan.attributes).toMatchObject({ 'gateway.route': 'thoughts-api', 'gateway.backend': 'thoughts' });
  });

  it('a SIGKILLed replica leaves the rotation: HAProxy marks it DOWN and the other answers everything', async () => {
    const [victim, ...survivors] = replicas;
    await endProcess(children.get(victim!)!, 'SIGKILL');
    await eventually(`HAProxy marks ${victim} DOWN`, 10_000, async () => ((await serverStates())[victim!]?.startsWith('DOWN') ? true : undefined));
    for (let i = 0; i < 10; i++) {
      const reply = await fetch(`${publicUrl}/api/thoughts/1/`);
      expect(reply.status).toBe(200);
      expect(survivors).toContain(reply.headers.get('x-gateway-replica'));
    }
  });
});

/** Start order: the monolith (it seeds the demo data), the other back ends, the gateways. */
function rank(process: string): number {
  return process === 'legacy-monolith' ? 0 : process === 'gateway' ? 2 : 1;
}
