/**
 * Route scaling (issue 7, point 4): what matching one request costs over 10, 1 000 and
 * 10 000 routes, and what validating + loading a 1 000-route file costs, using the gateway's
 * own loader (gateway/src/plan/filePlanStore.ts → RouteTable.match, a segment trie) and
 * path normaliser (gateway/src/match/normalisePath.ts).
 *
 *   node --import tsx bench/routeScaling.ts          # prints a table
 *   node --import tsx bench/routeScaling.ts --json   # one JSON line (used by npm run bench)
 *
 * Loops are bounded (a fixed number of lookups per batch, 5 batches); nothing listens.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export interface ScalingRow {
  readonly routes: number;
  /** Reading + parsing + validating + compiling the file, the first time in this process (ms). */
  readonly loadColdMs: number;
  /** The same, median of later loads (a reload in a running gateway), ms; NaN (null in JSON) when loaded once. */
  readonly loadWarmMs: number | null;
  /** table.match(path, method, headers) per request, µs (median of 5 batches). */
  readonly matchUs: number;
  /** normaliseTarget(raw) + table.match, µs. */
  readonly normaliseAndMatchUs: number;
  /** Which share of the looked-up paths fell through to the catch-all. */
  readonly catchAllShare: number;
}

export interface ScalingResult {
  readonly rows: readonly ScalingRow[];
  readonly note: string | null;
}

const SIZES = [10, 1_000, 10_000] as const;
const LOOKUPS_PER_BATCH = 100_000;
const BATCHES = 5;
const HEADERS = { host: 'bench', cookie: 'gw_cohort=abc' };

/** A routes file of `count` routes: deny rules, splits, method-limited routes, `*` and `**`, a catch-all last. */
function generateRoutes(count: number): string {
  const lines = [
    'backends:',
    '  legacy: { url: http://127.0.0.1:8001, legacy: true }',
    '  new:    { url: http://127.0.0.1:8003 }',
    'cohort:',
    '  keys: [jwt:username, cookie:gw_cohort]',
    '  salt: scaling',
    'protect: []   # synthetic paths: no /admin or /metrics behind them',
    'routes:',
  ];
  for (let i = 0; i < count - 1; i++) {
    const shape = i % 5;
    const [pathPattern, extra] =
      shape === 0
        ? [`/svc${i}/items/*`, 'split: { new: 10 }']
        : shape === 1
          ? [`/api/v${i}/things/**`, 'split: { legacy: 100 }']
          : shape === 2
            ? [`/area${i}/**`, 'split: { new: 25 }']
            : shape === 3
              ? [`/exact${i}/page/`, 'deny: 404']
              : [`/api/users/u${i}/thoughts/**`, 'split: { new: 10 }'];
    const methods = shape === 2 ? ', methods: [GET, POST]' : '';
    lines.push(`  - name: r${i}`, `    match: { path: ${pathPattern}${methods} }`, `    ${extra}`);
  }
  lines.push('  - name: site', '    match: { path: /** }', '    split: { legacy: 100 }');
  return lines.join('\n') + '\n';
}

/** Request paths hitting routes spread over the whole table, and 10 % that only the catch-all takes. */
function samplePaths(count: number, n = 1_000): string[] {
  const paths: string[] = [];
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let k = 0; k < n; k++) {
    if (k % 10 === 9) {
      paths.push(`/nothing/here/${k}?q=1`);
      continue;
    }
    const i = Math.floor(random() * Math.max(1, count - 1));
    const shape = i % 5;
    paths.push(
      shape === 0
        ? `/svc${i}/items/${k}`
        : shape === 1
          ? `/api/v${i}/things/a/b/${k}?page=2`
          : shape === 2
            ? `/area${i}/x/${k}`
            : shape === 3
              ? `/exact${i}/page/`
              : `/api/users/u${i}/thoughts/${k}`,
    );
  }
  return paths;
}

async function runRouteScaling(): Promise<ScalingResult> {
  const { FilePlanStore } = await import('../gateway/src/plan/filePlanStore.ts');
  const { normaliseTarget } = await import('../gateway/src/match/normalisePath.ts');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-routes-'));
  const rows: ScalingRow[] = [];
  try {
    // 1 000 first, so its cold load is really the first load of this process.
    for (const count of [1_000, ...SIZES.filter((s) => s !== 1_000)]) {
      const file = path.join(dir, `routes-${count}.yaml`);
      writeFileSync(file, generateRoutes(count));
      const loads: number[] = [];
      let table = null;
      // 10 000 routes take about a second to load and validate: once is enough.
      const repeats = count >= 10_000 ? 1 : 6;
      for (let r = 0; r < repeats; r++) {
        const started = performance.now();
        // A new store each time: a store does not validate an unchanged file twice.
        const loaded = await new FilePlanStore({ file }).read();
        loads.push(performance.now() - started);
        if (!loaded.ok)
          throw new Error(
            `generated ${count}-route file rejected: ${loaded.problems
              .slice(0, 3)
              .map((p) => p.message)
              .join('; ')}`,
          );
        table = loaded.table;
      }
      const paths = samplePaths(count);
      const normalised = paths.map((raw) => {
        const target = normaliseTarget(raw);
        if (!target.ok) throw new Error(`cannot normalise ${raw}`);
        return target.path;
      });
      const catchAll = normalised.filter((p) => table!.match(p, 'GET', HEADERS)?.name === 'site').length / normalised.length;
      const matchUs = timePerCall(normalised, (p) => table!.match(p, 'GET', HEADERS));
      const normaliseAndMatchUs = timePerCall(paths, (raw) => {
        const target = normaliseTarget(raw);
        return target.ok ? table!.match(target.path, 'GET', HEADERS) : null;
      });
      rows.push({
        routes: count,
        loadColdMs: loads[0]!,
        loadWarmMs: loads.length > 1 ? median(loads.slice(1)) : Number.NaN,
        matchUs,
        normaliseAndMatchUs,
        catchAllShare: catchAll,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  rows.sort((a, b) => a.routes - b.routes);
  return { rows, note: null };
}

/** µs per call: median of BATCHES timed batches of LOOKUPS_PER_BATCH calls, after one warm-up batch. */
function timePerCall<T>(inputs: readonly T[], call: (input: T) => unknown): number {
  let sink = 0;
  const batch = () => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < LOOKUPS_PER_BATCH; i++) if (call(inputs[i % inputs.length]!) !== null) sink++;
    return Number(process.hrtime.bigint() - started) / 1e3 / LOOKUPS_PER_BATCH;
  };
  batch();
  const times: number[] = [];
  for (let b = 0; b < BATCHES; b++) times.push(batch());
  if (sink < 0) console.log(sink); // keep the calls observable
  return median(times);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function formatScaling(result: ScalingResult): string {
  const lines = [
    '| routes | match µs/req | normalise + match µs/req | load + validate, first (ms) | load + validate, again (ms) |',
    '|---:|---:|---:|---:|---:|',
  ];
  for (const r of result.rows) {
    lines.push(
      `| ${r.routes.toLocaleString('en')} | ${r.matchUs.toFixed(2)} | ${r.normaliseAndMatchUs.toFixed(2)} | ${r.loadColdMs.toFixed(0)} | ${r.loadWarmMs === null || Number.isNaN(r.loadWarmMs) ? '–' : r.loadWarmMs.toFixed(0)} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runRouteScaling();
  if (process.argv.includes('--json')) console.log(`BENCH-JSON ${JSON.stringify(result)}`);
  else console.log(formatScaling(result));
}
