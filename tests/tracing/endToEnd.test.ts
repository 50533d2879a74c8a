import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, TRACING_OFF } from '@mythoughts/runtime/tracing/setup';
import { startTestGateway, type TestGateway } from '../../gateway/test/helpers/gateway.ts';
import { send } from '../../gateway/test/helpers/http.ts';
import { routesYaml } from '../../gateway/test/helpers/routes.ts';
import { SPAN_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlpReceiver.ts';
import { freePort } from '../support/ports.ts';
import { startSystem, type MyThoughtsSystem } from '../support/system.ts';

// One trace from the client through the real gateway to the real back ends and their
// database, every process exporting over OTLP/HTTP to a receiver on loopback.

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

function clientTrace() {
  const traceId = hex(16);
  const spanId = hex(8);
  return { traceId, spanId, headers: { traceparent: `00-${traceId}-${spanId}-01`, tracestate: 'client=7,vendor=x' } };
}

const ROUTES = `  - { name: thoughts, match: { path: /api/thoughts/** }, split: { thoughts: 100 }, fallback: legacy }
  - { name: site, match: { path: /** }, split: {} }`;

/** Waits for the spans of `traceId` until `ready` says the trace is complete. */
async function traceOf(receiver: OtlpReceiver, traceId: string, ready: (spans: ReceivedSpan[]) => boolean): Promise<ReceivedSpan[]> {
  const spans = await receiver.waitFor((all) => ready(all.filter((s) => s.traceId === traceId)));
  return spans.filter((s) => s.traceId === traceId);
}

const find = (spans: readonly ReceivedSpan[], service: string, kind: number) => spans.filter((s) => s.service === service && s.kind === kind);

describe('one trace: client → gateway → back end → query', () => {
  let receiver: OtlpReceiver;
  let system: MyThoughtsSystem;
  let gateway: TestGateway;
  const exported = () => startTracing('gateway', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_BSP_SCHEDULE_DELAY = '100';
    system = await startSystem('sqlite', undefined, { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
    gateway = await startTestGateway(routesYaml({ legacy: system.legacyUrl, thoughts: system.thoughtsUrl }, ROUTES), { tracing: exported() });
  });
  afterAll(async () => {
    await gateway?.stop();
    await system?.stop();
    await receiver?.close();
  });

  it("carries the client's trace id into the gateway's export and the back end's, the gateway's span as the back end's parent", async () => {
    const client = clientTrace();
    const reply = await send(`${gateway.url}/api/thoughts/1/`, { headers: client.headers });
    expect(reply.status).toBe(200);
    const spans = await traceOf(
      receiver,
      client.traceId,
      (t) =>
        find(t, 'thoughts', SPAN_KIND.server).length === 1 &&
        find(t, 'gateway', SPAN_KIND.server).length === 1 &&
        t.some((s) => s.attributes['db.system.name']),
    );

    const [server] = find(spans, 'gateway', SPAN_KIND.server);
    expect(server!.parentSpanId).toBe(client.spanId);
    expect(server!.name).toBe('GET /api/thoughts/**');
    expect(server!.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/api/thoughts/**',
      'http.response.status_code': 200,
      'url.path': '/api/thoughts/1/',
      'gateway.route': 'thoughts',
      'gateway.backend': 'thoughts',
      'gateway.decision': 'weight',
      'gateway.attempts': 1,
      'gateway.shadowed': false,
    });
    const [attempt] = find(spans, 'gateway', SPAN_KIND.client);
    expect(attempt!.parentSpanId).toBe(server!.spanId);
    expect(attempt!.attributes).toMatchObject({
      'gateway.backend': 'thoughts',
      'gateway.attempt': 1,
      'http.response.status_code': 200,
      'url.full': `${system.thoughtsUrl}/api/thoughts/1/`,
    });

    const [backend] = find(spans, 'thoughts', SPAN_KIND.server);
    expect(backend!.parentSpanId).toBe(attempt!.spanId);
    // The client's tracestate is passed on.
    expect(backend!.traceState).toBe('client=7,vendor=x');
    const query = spans.find((s) => s.attributes['db.system.name'] === 'sqlite')!;
    expect(query.service).toBe('thoughts');
    expect(query.parentSpanId).toBe(backend!.spanId);

    const line = gateway.logLines().find((l) => l.msg === 'request' && l.path === '/api/thoughts/1/');
    expect(line).toMatchObject({ trace_id: client.traceId, span_id: server!.spanId });
  });

  it('starts a trace for a client that sends none, and logs its ids', async () => {
    const reply = await send(`${gateway.url}/api/thoughts/`);
    expect(reply.status).toBe(200);
    const line = gateway.logLines().find((l) => l.msg === 'request' && l.path === '/api/thoughts/');
    expect(line?.trace_id).toMatch(/^[0-9a-f]{32}$/);
    const spans = await traceOf(
      receiver,
      String(line!.trace_id),
      (t) => find(t, 'thoughts', SPAN_KIND.server).length === 1 && find(t, 'gateway', SPAN_KIND.server).length === 1,
    );
    const [server] = find(spans, 'gateway', SPAN_KIND.server);
    expect([server!.parentSpanId, server!.spanId]).toEqual(['', line!.span_id]);
  });

  it('a fallback retry is a second client span, and the back end that answered is the child of that one', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const failing = await startTestGateway(routesYaml({ legacy: system.legacyUrl, thoughts: dead }, ROUTES), { tracing: exported() });
    try {
      const client = clientTrace();
      const reply = await send(`${failing.url}/api/thoughts/1/`, { headers: client.headers });
      expect(reply.status).toBe(200);
      const spans = await traceOf(
        receiver,
        client.traceId,
        (t) => find(t, 'legacy-monolith', SPAN_KIND.server).length === 1 && find(t, 'gateway', SPAN_KIND.server).length === 1,
      );
      const [server] = find(spans, 'gateway', SPAN_KIND.server);
      expect(server!.attributes).toMatchObject({ 'gateway.decision': 'fallback', 'gateway.attempts': 2, 'gateway.backend': 'legacy' });
      const attempts = find(spans, 'gateway', SPAN_KIND.client).sort(
        (a, b) => Number(a.attributes['gateway.attempt']) - Number(b.attributes['gateway.attempt']),
      );
      expect(attempts.map((a) => [a.attributes['gateway.backend'], a.parentSpanId])).toEqual([
        ['thoughts', server!.spanId],
        ['legacy', server!.spanId],
      ]);
      expect(attempts[0]!.attributes['error.type']).toBe('refused');
      expect(attempts[0]!.statusCode).toBe(2); // STATUS_CODE_ERROR
      expect(attempts[1]!.attributes['http.request.resend_count']).toBe(1);
      expect(find(spans, 'legacy-monolith', SPAN_KIND.server)[0]!.parentSpanId).toBe(attempts[1]!.spanId);
    } finally {
      await failing.stop();
    }
  });

  it('a shadow copy is a span of its own trace, marked shadow and linked to the request it copies', async () => {
    const shadowed = await startTestGateway(
      routesYaml(
        { legacy: system.legacyUrl, thoughts: system.thoughtsUrl },
        `  - { name: listing, match: { path: /api/thoughts/ }, split: {}, shadow: { to: thoughts } }\n${ROUTES}`,
      ),
      { tracing: exported() },
    );
    try {
      const client = clientTrace();
      expect((await send(`${shadowed.url}/api/thoughts/`, { headers: client.headers })).status).toBe(200);
      const isShadow = (s: ReceivedSpan) => s.attributes['gateway.shadow'] === true && s.links.some((l) => l.traceId === client.traceId);
      const all = await receiver.waitFor(
        (spans) => spans.some(isShadow) && spans.some((s) => s.service === 'gateway' && s.kind === SPAN_KIND.server && s.traceId === client.traceId),
      );
      const shadow = all.find(isShadow)!;
      const [server] = find(
        all.filter((s) => s.traceId === client.traceId),
        'gateway',
        SPAN_KIND.server,
      );
      expect(server!.attributes).toMatchObject({ 'gateway.shadowed': true, 'gateway.backend': 'legacy' });
      expect(shadow.traceId).not.toBe(client.traceId);
      expect(shadow.links).toEqual([{ traceId: client.traceId, spanId: server!.spanId, attributes: { 'gateway.shadow': true } }]);
      expect(shadow.attributes).toMatchObject({ 'gateway.backend': 'thoughts', 'gateway.route': 'listing', 'http.response.status_code': 200 });
      // The candidate joins the shadow's trace, not the client's.
      const candidate = await traceOf(receiver, shadow.traceId, (t) => find(t, 'thoughts', SPAN_KIND.server).length === 1);
      expect(find(candidate, 'thoughts', SPAN_KIND.server)[0]!.parentSpanId).toBe(shadow.spanId);
    } finally {
      await shadowed.stop();
    }
  });

  it('with tracing off the gateway exports nothing, passes the traceparent on untouched and still logs the trace id', async () => {
    const quiet = await startTestGateway(routesYaml({ legacy: system.legacyUrl, thoughts: system.thoughtsUrl }, ROUTES), {
      tracing: startTracing('gateway', {}),
    });
    try {
      expect(startTracing('gateway', {})).toBe(TRACING_OFF);
      const client = clientTrace();
      expect((await send(`${quiet.url}/api/thoughts/1/`, { headers: client.headers })).status).toBe(200);
      const spans = await traceOf(receiver, client.traceId, (t) => find(t, 'thoughts', SPAN_KIND.server).length === 1);
      // The back end is the client's span's child: no gateway span in between, none exported.
      expect(find(spans, 'thoughts', SPAN_KIND.server)[0]!.parentSpanId).toBe(client.spanId);
      expect(spans.filter((s) => s.service === 'gateway')).toEqual([]);
      const line = quiet.logLines().find((l) => l.msg === 'request' && l.path === '/api/thoughts/1/');
      expect(line?.trace_id).toBe(client.traceId);
      expect(line).not.toHaveProperty('span_id');
    } finally {
      await quiet.stop();
    }
  });
});
