import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing } from '@mythoughts/runtime/tracing/setup';
import { send } from '../contract/client.ts';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlpReceiver.ts';
import { startSystem, type MyThoughtsSystem } from '../support/system.ts';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** A client's traceparent: a fresh trace, its own (sampled) span as the parent. */
function clientTrace() {
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
}

const serverSpanOf = (spans: readonly ReceivedSpan[], service: string, traceId: string) =>
  spans.find((s) => s.service === service && s.traceId === traceId && s.kind === SPAN_KIND.server);

describe('back-end tracing over OTLP/HTTP (a real receiver on loopback)', () => {
  let receiver: OtlpReceiver;
  let system: MyThoughtsSystem;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // A short batch delay: the test waits for the export instead of the default 5 s.
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    system = await startSystem('sqlite', undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
  });
  afterAll(async () => {
    await system?.stop();
    await receiver?.close();
  });

  it("continues the caller's traceparent with a server span carrying the route template", async () => {
    const client = clientTrace();
    const reply = await send(`${system.thoughtsUrl}/api/thoughts/1/`, 'GET', { headers: { traceparent: client.traceparent } });
    expect(reply.status).toBe(200);
    const spans = await receiver.waitFor((all) => serverSpanOf(all, 'thoughts', client.traceId) !== undefined);
    const server = serverSpanOf(spans, 'thoughts', client.traceId)!;
    expect(server.parentSpanId).toBe(client.spanId);
    expect(server.name).toBe('GET /api/thoughts/:thoughtId/');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/thoughts/:thoughtId/',
      'http.response.status_code': 200,
      'url.path': '/api/thoughts/1/',
      'url.scheme': 'http',
    });
  });

  it('makes each query for the request a child span of the server span (also after the JSON body is read)', async () => {
    const client = clientTrace();
    const reply = await send(`${system.usersUrl}/api/login/`, 'POST', {
      json: { username: 'bruce', password: 'password' },
      headers: { traceparent: client.traceparent },
    });
    expect(reply.status).toBe(200);
    const spans = await receiver.waitFor((all) => {
      const server = serverSpanOf(all, 'users', client.traceId);
      return server !== undefined && all.some((s) => s.parentSpanId === server.spanId && s.name === 'SELECT users');
    });
    const server = serverSpanOf(spans, 'users', client.traceId)!;
    const queries = spans.filter((s) => s.parentSpanId === server.spanId);
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) {
      expect(query.kind).toBe(SPAN_KIND.client);
      expect(query.traceId).toBe(client.traceId);
      expect(query.attributes['db.system.name']).toBe('sqlite');
    }
    // The login reads the throttle's counts (login_failures), then the user's password hash.
    const selects = queries.filter((q) => q.attributes['db.operation.name'] === 'SELECT').map((q) => q.name);
    expect([...selects].sort()).toEqual(['SELECT login_failures', 'SELECT users']);
    // Placeholders only: the password the client sent never reaches a span.
    expect(JSON.stringify(spans)).not.toContain('"password"');
    expect(server.attributes['http.route']).toBe('/api/login/');
  });

  it('the monolith joins the same way, and probes and /metrics are not traced', async () => {
    const client = clientTrace();
    await send(`${system.legacyUrl}/api/thoughts/`, 'GET', { headers: { traceparent: client.traceparent } });
    await send(`${system.legacyUrl}/readyz`, 'GET', { headers: { traceparent: client.traceparent } });
    await send(`${system.legacyUrl}/metrics`, 'GET', { headers: { traceparent: client.traceparent } });
    const spans = await receiver.waitFor((all) => serverSpanOf(all, 'legacy-monolith', client.traceId) !== undefined);
    const ours = spans.filter((s) => s.traceId === client.traceId && s.kind === SPAN_KIND.server);
    expect(ours.map((s) => s.name)).toEqual(['GET /api/thoughts/']);
  });

  it('a client that sends no traceparent starts a new trace', async () => {
    const before = new Set(receiver.spans.map((s) => s.traceId));
    await send(`${system.thoughtsUrl}/api/thoughts/`, 'GET');
    const spans = await receiver.waitFor((all) => all.some((s) => s.service === 'thoughts' && s.kind === SPAN_KIND.server && !before.has(s.traceId)));
    const root = spans.find((s) => s.service === 'thoughts' && s.kind === SPAN_KIND.server && !before.has(s.traceId))!;
    expect(root.parentSpanId).toBe('');
  });
});

describe('tracing configuration', () => {
  it('is off, with no SDK, when no endpoint is set, or when OTEL_SDK_DISABLED / OTEL_TRACES_EXPORTER=none say so', () => {
    expect(startTracing('x', { OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }).tracer).toBeNull();
    expect(startTracing('x', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_SDK_DISABLED: 'true' }).tracer).toBeNull();
    expect(startTracing('x', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318', OTEL_TRACES_EXPORTER: 'none' }).tracer).toBeNull();
  });

  it('refuses values that cannot work, naming the variable', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(() => startTracing('x', { ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(
      /OTEL_TRACES_SAMPLER=sometimes is not a sampler: use one of always_on/,
    );
    expect(() => startTracing('x', { ...endpoint, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG=2 must be a probability from 0 to 1/,
    );
    expect(() => startTracing('x', { OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT=jaeger:4318 is not an http\(s\) URL/);
    expect(() => startTracing('x', { ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/);
    expect(() => startTracing('x', { ...endpoint, OTEL_SDK_DISABLED: 'yes please' })).toThrow(/OTEL_SDK_DISABLED=yes please must be true or false/);
  });

  it('exports nothing with OTEL_SDK_DISABLED=true even though an endpoint is set', async () => {
    const receiver = await startOtlpReceiver();
    const system = await startSystem('sqlite', undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_SDK_DISABLED: 'true' });
    try {
      const client = clientTrace();
      expect((await send(`${system.thoughtsUrl}/api/thoughts/`, 'GET', { headers: { traceparent: client.traceparent } })).status).toBe(200);
    } finally {
      await system.stop(); // a running SDK would flush its spans here
    }
    expect(receiver.requests).toBe(0);
    await receiver.close();
  });
});
