// `npm run faults`: starts the real system for each fault case in turn, applies the fault under
// load and prints one table of counts (never timings: those are the bench's). Exit 1 if any case
// counted a failure or could not run.
import { parseArgs } from 'node:util';
import { killAllSync } from '../bench/processes.ts';
import type { CaseResult, CaseSettings } from './case.ts';
import { CASES } from './cases/index.ts';

const DEFAULTS: CaseSettings = { clients: 12, seconds: 9, repeat: 3, outage: 30 };

const HELP = `npm run faults -- [options]

Starts the real system (monolith, users and thoughts services on a fresh SQLite database, the
gateway as its own process, or three gateway replicas on a throwaway etcd for the fleet cases)
on free 127.0.0.1 ports for each case, applies the case's fault under load and prints a table
of counts: tried, failed, verdict (the fleet cases also print their figures: shift spread,
handover, resync). Exits 1 if any case failed.

Cases:
${CASES.map((c) => `  ${c.name.padEnd(14)} ${c.summary}`).join('\n')}

Options:
  --only a,b       only these cases (names above)
  --clients N      concurrent load clients                          (default ${DEFAULTS.clients})
  --seconds S      seconds of load around a kill or a SIGTERM       (default ${DEFAULTS.seconds})
  --repeat N       times each token attack, bypass target and slow
                   client kind is sent (5 slow clients per kind × N) (default ${DEFAULTS.repeat})
  --outage S       seconds etcd stays away in etcd-down              (default ${DEFAULTS.outage})
  --help           this text

On a shared machine, run it under the lock: flock /tmp/mythoughts-tests.lock npm run faults
`;

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      clients: { type: 'string' },
      seconds: { type: 'string' },
      repeat: { type: 'string' },
      outage: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  const only =
    values.only
      ?.split(',')
      .map((name) => name.trim())
      .filter(Boolean) ?? [];
  const unknown = only.filter((name) => !CASES.some((c) => c.name === name));
  if (unknown.length > 0) throw new Error(`--only: no case called ${unknown.join(', ')}; the cases are ${CASES.map((c) => c.name).join(', ')}`);
  const whole = (text: string | undefined, flag: string, fallback: number, max: number) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > max) throw new Error(`${flag} must be a whole number from 1 to ${max} (got "${text}")`);
    return value;
  };
  return {
    help: values.help ?? false,
    cases: only.length > 0 ? CASES.filter((c) => only.includes(c.name)) : CASES,
    settings: {
      clients: whole(values.clients, '--clients', DEFAULTS.clients, 200),
      seconds: whole(values.seconds, '--seconds', DEFAULTS.seconds, 600),
      repeat: whole(values.repeat, '--repeat', DEFAULTS.repeat, 100),
      outage: whole(values.outage, '--outage', DEFAULTS.outage, 600),
    },
  };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof options>;
  try {
    parsed = options(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`faults: ${(error as Error).message}\n\n${HELP}`);
    return 1;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const { clients, seconds, repeat, outage } = parsed.settings;
  process.stdout.write(`npm run faults -- --clients ${clients} --seconds ${seconds} --repeat ${repeat} --outage ${outage}  (${new Date().toISOString()})\n\n`);
  const rows: { name: string; summary: string; result: CaseResult | Error }[] = [];
  for (const c of parsed.cases) {
    process.stdout.write(`${c.name}: ${c.summary} ...\n`);
    const result = await c.run(parsed.settings).catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    process.stdout.write(`  ${result instanceof Error ? `could not run: ${result.message}` : result.detail}\n`);
    rows.push({ name: c.name, summary: c.summary, result });
  }
  process.stdout.write(`\n| case | fault → what is counted as failed | tried | failed | verdict |\n|---|---|---:|---:|---|\n`);
  for (const { name, summary, result } of rows) {
    const [tried, failed, verdict] =
      result instanceof Error ? ['–', '–', '**could not run**'] : [result.tried, result.failed, result.failed === 0 ? 'ok' : '**FAILED**'];
    process.stdout.write(`| ${name} | ${summary} | ${tried} | ${failed} | ${verdict} |\n`);
  }
  return rows.every(({ result }) => !(result instanceof Error) && result.failed === 0) ? 0 : 1;
}

process.once('SIGINT', () => {
  killAllSync();
  process.exit(130);
});
process.exitCode = await main();
