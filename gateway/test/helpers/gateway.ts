import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { startGateway, type Gateway, type GatewayOptions } from '../../src/gateway.ts';
import { createGatewayLogger } from '../../src/observe/logger.ts';
import { TEST_COHORT_SECRET } from './cohort.ts';
import { send } from './http.ts';
import { parseMetrics } from './routes.ts';
import { assertSchemaAccepts } from './routesSchema.ts';

export interface TestGateway extends Gateway {
  routesFile: string;
  /** Access-log and other log lines written so far, parsed. */
  logLines(): Record<string, unknown>[];
  /** Replaces routes.yaml the way editors do: write a temporary file, rename it over. */
  rewrite(text: string): void;
  stop(): Promise<void>;
}

/** A gateway on free ports of 127.0.0.1, running `routesText` from a temporary directory. */
export async function startTestGateway(routesText: string, options: Partial<GatewayOptions> = {}): Promise<TestGateway> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gateway-test-'));
  const routesFile = path.join(dir, 'routes.yaml');
  writeFileSync(routesFile, routesText);
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const gateway = await startGateway({
    routesFile,
    port: 0,
    host: '127.0.0.1',
    adminPort: 0,
    defaultMetrics: false,
    logger: createGatewayLogger(destination),
    backendUrls: {},
    cohortSecret: TEST_COHORT_SECRET,
    ...options,
  });
  // Every plan a gateway test runs (the gateway accepted it) is also a check of routes.schema.json.
  try {
    assertSchemaAccepts(routesText, 'startTestGateway');
  } catch (error) {
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let counter = 0;
  return Object.assign(gateway, {
    routesFile,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    rewrite(text: string) {
      const temporary = path.join(dir, `.routes.yaml.${counter++}.tmp`);
      writeFileSync(temporary, text);
      renameSync(temporary, routesFile);
    },
    async stop() {
      await gateway.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/** The gateway's /metrics, scraped from its admin port and parsed (see parseMetrics). */
export async function scrape(gateway: Gateway, headers: Record<string, string> = {}): Promise<Map<string, number>> {
  const reply = await send(`${gateway.adminUrl}/metrics`, { headers });
  if (reply.status !== 200) throw new Error(`/metrics answered ${reply.status}: ${reply.body}`);
  return parseMetrics(reply.body);
}
