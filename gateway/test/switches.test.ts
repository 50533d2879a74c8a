import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { optionsFromEnv } from '../src/env.ts';
import { startBackend, type TestBackend } from './helpers/backends.ts';
import { scrape, startTestGateway } from './helpers/gateway.ts';
import { send } from './helpers/http.ts';
import { routesYaml, sample } from './helpers/routes.ts';

let legacy: TestBackend;
let dir: string;

beforeAll(async () => {
  legacy = await startBackend('legacy');
  dir = mkdtempSync(path.join(tmpdir(), 'gateway-switches-'));
});

afterAll(async () => {
  await legacy.close();
  rmSync(dir, { recursive: true, force: true });
});

const ROUTES = () => routesYaml({ legacy: legacy.url }, '  - { name: site, match: { path: /** }, split: {} }');
const SITE_2XX = sample('gateway_requests_total', { route: 'site', backend: 'legacy', decision: 'weight', code: '2xx' });

describe('diagnostic switches (for measuring what a feature costs)', () => {
  it('GATEWAY_ACCESS_LOG=off writes no access line; GATEWAY_METRICS=off counts no request', async () => {
    const gateway = await startTestGateway(ROUTES(), { accessLog: 'off', requestMetrics: false });
    try {
      expect((await send(`${gateway.url}/thoughts/`)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(gateway.logLines().filter((line) => line.msg === 'request')).toEqual([]);
      expect((await scrape(gateway)).get(SITE_2XX)).toBeUndefined();
    } finally {
      await gateway.stop();
    }
  });

  it('GATEWAY_ACCESS_LOG=<file> writes the access lines there, and metrics stay on by default', async () => {
    const file = path.join(dir, 'logs', 'access.jsonl');
    const gateway = await startTestGateway(ROUTES(), { accessLog: file });
    try {
      expect((await send(`${gateway.url}/thoughts/`)).status).toBe(200);
      expect((await scrape(gateway)).get(SITE_2XX)).toBe(1);
    } finally {
      await gateway.stop();
    }
    expect(gateway.logLines().filter((line) => line.msg === 'request')).toEqual([]);
    for (let i = 0; i < 50 && !(existsSync(file) && readFileSync(file, 'utf8').includes('"msg":"request"')); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([expect.objectContaining({ msg: 'request', path: '/thoughts/', route: 'site', backend: 'legacy', status: 200 })]);
  });

  it('reads them from the environment, refusing anything but on/off for GATEWAY_METRICS', () => {
    expect(optionsFromEnv({ GATEWAY_ACCESS_LOG: 'off', GATEWAY_METRICS: 'off' })).toMatchObject({ accessLog: 'off', requestMetrics: false });
    expect(optionsFromEnv({})).toMatchObject({ accessLog: undefined, requestMetrics: true });
    expect(() => optionsFromEnv({ GATEWAY_METRICS: 'maybe' })).toThrow('GATEWAY_METRICS=maybe must be true or false (or 1/0, yes/no, on/off)');
  });
});
