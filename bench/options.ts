import { parseArgs } from 'node:util';
import type { RoundSettings } from './rounds.ts';

/** What one `npm run bench` does, from its command line (the round settings, then the rest). */
export interface BenchOptions extends RoundSettings {
  /** Target names to run (direct, nginx, bare, gateway, gateway variants, route-scaling); empty = all. */
  readonly only: readonly string[];
  /** Seconds of the RSS soak of the gateway, 0 = no soak. */
  readonly soak: number;
  readonly out: string;
  readonly keepTemp: boolean;
  readonly help: boolean;
}

export const HELP = `npm run bench -- [options]

Measures the gateway against nginx and a bare http-proxy-3 pass-through on this machine
(127.0.0.1 only) and writes bench/RESULTS.md. Needs the Debian packages wrk, nginx and hey;
installs nothing itself. Run it alone on the machine (on a shared machine, under the lock:
flock /tmp/mythoughts-tests.lock npm run bench -- ...).

Options:
  --rounds N          interleaved rounds; the report shows medians            (default 3)
  --duration S        seconds per measurement run                              (default 10)
  --connections N     connections of the saturation run (wrk -t1 -cN)          (default 50)
  --saturation N      connections of the overload run                          (default 200)
  --rate R            requests/s of the fixed-rate (added latency) run        (default 2000)
  --warmup S          seconds of warm-up per target before round 1             (default 3)
  --only a,b          only these targets: direct, nginx, nginx-2-workers, bare,
                      bare-undici, fastify-proxy, npm-start, gateway, the gateway
                      variants (gateway-no-log, gateway-no-metrics, gateway-no-cohort,
                      gateway-jwt, gateway-shadow, gateway-tracing-off, gateway-tracing,
                      gateway-2-workers), route-scaling, websockets (1 000 sockets
                      × 10 echoes) and profile (per-stage CPU table + flame graphs
                      bench/flamegraph-*.svg, under node --cpu-prof)
  --soak S            also run an S-second soak of the gateway (RSS growth), e.g. 300
  --out FILE          where to write the report                   (default bench/RESULTS.md)
  --keep-temp         keep the generated configs and logs (the temp dir is printed)
  --help              this text

Examples:
  flock /tmp/mythoughts-tests.lock npm run bench
  flock /tmp/mythoughts-tests.lock npm run bench -- --rounds 1 --duration 3
  flock /tmp/mythoughts-tests.lock npm run bench -- --only gateway --soak 300
  node --import tsx bench/routeScaling.ts            # the route-scaling part alone
`;

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      rounds: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      saturation: { type: 'string' },
      rate: { type: 'string' },
      warmup: { type: 'string' },
      only: { type: 'string' },
      soak: { type: 'string' },
      out: { type: 'string' },
      'keep-temp': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  return {
    rounds: integer(values.rounds, '--rounds', 3, 1, 50),
    duration: integer(values.duration, '--duration', 10, 1, 600),
    connections: integer(values.connections, '--connections', 50, 1, 2000),
    saturationConnections: integer(values.saturation, '--saturation', 200, 1, 5000),
    rate: integer(values.rate, '--rate', 2000, 10, 100_000),
    warmup: integer(values.warmup, '--warmup', 3, 0, 120),
    only: values.only
      ? values.only
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : [],
    soak: integer(values.soak, '--soak', 0, 0, 24 * 3600),
    out: values.out ?? 'bench/RESULTS.md',
    keepTemp: values['keep-temp'] ?? false,
    help: values.help ?? false,
  };
}

function integer(text: string | undefined, flag: string, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return value;
}

export class UsageError extends Error {}
