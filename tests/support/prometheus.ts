import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { send } from '../../gateway/test/helpers/http.ts';
import { endProcess } from './gatewayProcess.ts';
import { freePort } from './ports.ts';
import { eventually } from './rolloutTraffic.ts';

/** Debian's `prometheus`; the tests that need it skip without it. */
const PROMETHEUS = '/usr/bin/prometheus';
export const hasPrometheus = () => existsSync(PROMETHEUS);

export interface RunningPrometheus {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  /** What it printed (warnings and errors), for a failing test's message. */
  readonly log: readonly string[];
  stop(): Promise<void>;
}

/** A real Prometheus on a free loopback port running `config` (prometheus.yml as an object), its files in `dir`; resolves once it is ready. */
export async function startPrometheus(config: object, dir: string): Promise<RunningPrometheus> {
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log: string[] = [];
  const child = spawn(
    PROMETHEUS,
    [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  for (const stream of [child.stdout!, child.stderr!]) stream.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  await eventually('Prometheus ready', 20_000, async () => ((await send(`${url}/-/ready`).catch(() => null))?.status === 200 ? true : undefined));
  return { url, log, stop: () => endProcess(child) };
}
