import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { makeDevSecrets } from '../../deploy/make-dev-secrets.mjs';
import { PROCESSES } from '../../deploy/docker/processes.mjs';
import { signOverrideToken } from '../../gateway/src/decide/overrideToken.ts';
import { planWith } from '../support/gatewayInFront.ts';
import { freePort } from '../support/ports.ts';
import { waitHealthy } from '../support/processes.ts';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver } from '../support/otlpReceiver.ts';
import { createDatabase } from '../support/postgres.ts';
import { appServices, nativeEnv, readCompose, REPO_ROOT } from './composeEnv.ts';

/**
 * The system as docker-compose runs it, without Docker: each of the four processes natively,
 * with exactly the environment its compose service gives it (PostgreSQL via DATABASE_URL,
 * keys and the admin token from secret files, traces to an OTLP receiver standing in for
 * Jaeger), then a smoke flow through the gateway.
 */
describe('production-shaped: the compose environment, run natively on PostgreSQL', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-prod-'));
  const children: ChildProcess[] = [];
  const ports: Record<string, number> = {};
  let gatewayUrl = '';
  let adminUrl = '';
  let adminToken = '';
  let overrideSecret = '';
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const secretsDir = path.join(dir, 'secrets');
    makeDevSecrets(secretsDir);
    const databaseUrl = await createDatabase(inject('postgresAdminUrl'));
    const routesFile = path.join(dir, 'routes.yaml');
    writeFileSync(routesFile, planWith(path.join(REPO_ROOT, 'deploy/compose/routes.yaml'), { users: 100, thoughts: 100 }));
    const services = appServices(readCompose());
    for (const name of Object.keys(services)) ports[name] = await freePort();
    const gatewayAdminPort = await freePort();
    // The monolith first: it is the one compose lets seed the demo data.
    const order = Object.keys(services).sort((a, b) => Number(services[b] === 'legacy-monolith') - Number(services[a] === 'legacy-monolith'));
    for (const name of order) {
      const env = nativeEnv(name, {
        secretsDir,
        ports,
        gatewayAdminPort,
        databaseUrl,
        dataDir: path.join(dir, 'data'),
        routesFile,
        otlpEndpoint: receiver.endpoint,
      });
      const spec = PROCESSES[services[name]!];
      // A short export batch delay, so the test need not wait the SDK's default 5 s.
      const childEnv = { PATH: process.env.PATH, OTEL_BSP_SCHEDULE_DELAY: '200', ...env };
      const child = spawn(process.execPath, ['--import', 'tsx', ...spec.entry], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      const port = services[name] === 'gateway' ? gatewayAdminPort : ports[name]!;
      await waitHealthy(`http://127.0.0.1:${port}${spec.healthPath}`, child);
      if (services[name] === 'gateway') {
        gatewayUrl = `http://127.0.0.1:${ports[name]}`;
        adminUrl = `http://127.0.0.1:${gatewayAdminPort}`;
        adminToken = env.GATEWAY_ADMIN_TOKEN!;
        overrideSecret = env.GATEWAY_OVERRIDE_SECRET!;
      }
    }
  }, 90_000);

  afterAll(async () => {
    await Promise.all(
      children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM'))))),
    );
    rmSync(dir, { recursive: true, force: true });
    await receiver?.close();
  });

  it('serves the smoke flow through the gateway, with the new services taking the API', async () => {
    const login = await fetch(`${gatewayUrl}/api/login/`, { method: 'POST', body: new URLSearchParams({ username: 'bruce', password: 'password' }) });
    expect(login.status).toBe(200);
    const { Authorized } = (await login.json()) as { Authorized: string };
    const mine = (await (await fetch(`${gatewayUrl}/api/me/thoughts/`, { headers: { authorization: Authorized } })).json()) as unknown[];
    expect(mine).toHaveLength(3);
    const posted = await fetch(`${gatewayUrl}/api/me/thoughts/`, {
      method: 'POST',
      headers: { authorization: Authorized },
      body: new URLSearchParams({ text: 'in production' }),
    });
    expect(posted.status).toBe(201);
    const { id } = (await posted.json()) as { id: number };
    // Written through the thoughts service, read back from the monolith: one database.
    const fromLegacy = await fetch(`http://127.0.0.1:${ports['legacy-monolith']}/api/thoughts/${id}/`);
    expect(((await fromLegacy.json()) as { text: string }).text).toBe('in production');
    expect(await (await fetch(`${gatewayUrl}/login/`)).text()).toMatch(/<legend[^>]*>Login<\/legend>/);
    expect((await fetch(`${gatewayUrl}/admin/users/`, { method: 'POST' })).status).toBe(404);
  });

  it('honours a tester override signed with the secret from its secret file', async () => {
    const token = signOverrideToken(overrideSecret, 'legacy', Math.floor(Date.now() / 1000) + 60);
    const asked = await fetch(`${gatewayUrl}/api/thoughts/1/`, { headers: { 'x-gateway-backend': 'legacy', 'x-gateway-override': token } });
    expect(asked.status).toBe(200);
    const metrics = await (await fetch(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } })).text();
    expect(metrics).toMatch(/gateway_requests_total\{route="thoughts-api",backend="legacy",decision="override",code="2xx"\} 1/);
  });

  it('keeps the admin port behind the token from its secret file', async () => {
    expect((await fetch(`${adminUrl}/metrics`)).status).toBe(401);
    const metrics = await fetch(`${adminUrl}/metrics`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('gateway_requests_total{route="thoughts-api",backend="thoughts"');
  });

  it('exports one trace per request: the gateway, the service behind it and its PostgreSQL queries', async () => {
    const traceId = 'c0ffee'.padEnd(32, '0');
    const reply = await fetch(`${gatewayUrl}/api/thoughts/1/`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
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
});
