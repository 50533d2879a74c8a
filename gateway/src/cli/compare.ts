import { ConfigError } from '@mythoughts/runtime/errors';
import type { Backend, Route, RouteTable } from '../config/routeTable.ts';
import { SHADOW_DEFAULTS } from '../config/routesConfig.ts';
import { METHODS, SAFE_METHODS } from '../core/httpMethods.ts';
import { normaliseTarget } from '../match/normalisePath.ts';
import { withPlanStore } from './planStoreFromEnv.ts';
import type { CapturedResponse, ResponseOutcome } from '../shadow/capturedResponse.ts';
import { splitNoise } from '../shadow/difference.ts';
import { formatDifferences, type Painter } from '../shadow/diffFormat.ts';
import { ShadowClient, type OutgoingCopy } from '../shadow/shadowClient.ts';
import { ShadowComparator } from '../shadow/shadowComparator.ts';
import { exitTwoOnConfigError, parseCommandArgs, type Command } from './command.ts';
import { ignoreOptions } from './ignoreOption.ts';
import { painter } from './painter.ts';

const HELP = `Usage: gateway compare METHOD PATH [options]

Sends one request to two backends and compares the answers as shadow traffic does: status,
the compared headers, and the body (JSON structurally: key order does not matter). By
default the two are the legacy backend and the new backend of the route PATH matches in
the routes file, with that route's shadow ignore rules and headers.

  gateway compare GET '/api/thoughts/?search=few'
  gateway compare GET /api/me/thoughts/ --header "Authorization: Bearer $TOKEN"
  gateway compare GET /api/thoughts/1/ --backends legacy,thoughts --ignore '$.timestamp'

A safe request (GET, HEAD, OPTIONS) also goes a second time to the first backend: places
where its two answers differ are noise, shown but not counted.

Options:
  --header 'Name: value'  request header (repeatable)
  --data BODY             request body (content-type application/json if it is JSON and none is given)
  --backends A,B          compare these two backends (A is the reference) instead of the route's
  --ignore PATH           body location not compared, e.g. '$[*].timestamp' (repeatable)
  --file FILE             routes file (default: $GATEWAY_ROUTES, else <repo>/routes.yaml)
  --timeout MS            per answer (default 10000)
  --allow-write           required for other methods: the request is then sent to BOTH backends,
                          which write it twice while they share one database

Backend URLs can be replaced with GATEWAY_BACKEND_<NAME>_URL, as for the gateway. Colours
only on a terminal (NO_COLOR turns them off, FORCE_COLOR on).

Exit status: 0 equal (after ignore rules and noise), 1 different, 2 usage error or a
backend that gave no answer.`;

const OPTIONS = {
  header: { type: 'string', multiple: true },
  data: { type: 'string' },
  backends: { type: 'string' },
  ignore: { type: 'string', multiple: true },
  file: { type: 'string' },
  timeout: { type: 'string', default: '10000' },
  'allow-write': { type: 'boolean', default: false },
} as const;

/** Everything a comparison needs, resolved from the arguments and the routes file. */
interface ComparePlan {
  readonly route: Route | null;
  readonly reference: Backend;
  readonly candidate: Backend;
  readonly copy: OutgoingCopy;
  readonly comparator: ShadowComparator;
  readonly ignored: readonly string[];
  readonly timeoutMs: number;
}

export const compareCommand: Command = {
  name: 'compare',
  summary: 'send one request to the old and the new backend and diff the answers (exit 0 equal, 1 different)',
  help: HELP,
  run: (args) =>
    exitTwoOnConfigError('compare', async () => {
      const plan = await planComparison(args);
      return plan === null ? 0 : execute(plan, painter());
    }),
};

/** Null when only --help was asked for. */
async function planComparison(args: string[]): Promise<ComparePlan | null> {
  const { values, positionals } = parseCommandArgs(args, HELP, OPTIONS, true);
  if (values.help) return null;
  if (positionals.length !== 2)
    throw new ConfigError(`compare takes METHOD and PATH, got ${positionals.length} argument${positionals.length === 1 ? '' : 's'}\n\n${HELP}`);
  const method = positionals[0]!.toUpperCase();
  if (!(METHODS as readonly string[]).includes(method)) throw new ConfigError(`'${positionals[0]}' is not a method; allowed: ${METHODS.join(', ')}`);
  if (!SAFE_METHODS.has(method) && !values['allow-write']) {
    throw new ConfigError(
      `${method} changes data and would be sent to both backends (twice the write while they share a database); add --allow-write if that is what you want`,
    );
  }
  const target = normaliseTarget(positionals[1]!);
  if (!target.ok || !positionals[1]!.startsWith('/'))
    throw new ConfigError(`'${positionals[1]}' is not a request path like /api/thoughts/?search=few${target.ok ? '' : ` (${target.message})`}`);
  const timeoutMs = Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1) throw new ConfigError(`--timeout ${values.timeout} is not a number of milliseconds`);

  const loaded = await withPlanStore(values.file, (store) => store.read());
  if (!loaded.ok) throw new ConfigError(loaded.message);
  const headers = requestHeaders(values.header ?? [], values.data);
  const route = loaded.table.match(target.path, method, headers);
  const [reference, candidate] =
    values.backends === undefined ? routeBackends(loaded.table, route, target.path, method) : namedBackends(loaded.table, values.backends);

  const extraIgnore = ignoreOptions(values.ignore);
  const ignore = [...(route?.shadow?.ignore ?? []), ...extraIgnore];
  return {
    route,
    reference,
    candidate,
    copy: { method, target: target.path + target.query, headers, body: values.data === undefined ? null : Buffer.from(values.data) },
    comparator: new ShadowComparator({ headers: route?.shadow?.headers ?? SHADOW_DEFAULTS.headers, ignore }),
    ignored: ignore.map((rule) => rule.text),
    timeoutMs,
  };
}

function requestHeaders(written: readonly string[], data: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of written) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim().toLowerCase();
    if (colon <= 0 || !/^[a-z0-9-]+$/.test(name)) throw new ConfigError(`--header '${line}' is not 'Name: value'`);
    headers[name] = line.slice(colon + 1).trim();
  }
  if (data !== undefined && headers['content-type'] === undefined && isJson(data)) headers['content-type'] = 'application/json';
  return headers;
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    // Not JSON: sent without a content type of ours, as the user wrote it.
    return false;
  }
}

/** The legacy backend and the route's candidate: its shadow target, else its first new backend. */
function routeBackends(table: RouteTable, route: Route | null, path: string, method: string): [Backend, Backend] {
  const hint = `pass --backends ${table.legacy.name},<new backend>`;
  if (route === null) throw new ConfigError(`no route of ${table.file} matches ${method} ${path}; ${hint}`);
  if (route.deny !== null) throw new ConfigError(`route ${route.name} denies ${path} (${route.deny}): there is nothing to compare; ${hint}`);
  const candidate = route.shadow?.to ?? route.shares.find((share) => !share.backend.legacy)?.backend;
  if (!candidate || candidate === route.legacy) throw new ConfigError(`route ${route.name} has no new backend in its split or shadow; ${hint}`);
  return [route.legacy, candidate];
}

function namedBackends(table: RouteTable, text: string): [Backend, Backend] {
  const names = text.split(',').map((name) => name.trim());
  const known = table.backends.map((b) => b.name);
  if (names.length !== 2 || names[0] === names[1])
    throw new ConfigError(`--backends '${text}' must name two different backends, e.g. ${table.legacy.name},thoughts`);
  return names.map((name) => {
    const backend = table.backend(name);
    if (!backend) throw new ConfigError(`unknown backend '${name}' in --backends; allowed: ${known.join(', ')}`);
    return backend;
  }) as [Backend, Backend];
}

async function execute(plan: ComparePlan, paint: Painter): Promise<number> {
  const client = new ShadowClient();
  const limits = { timeoutMs: plan.timeoutMs, maxBodyBytes: 16 * 1024 * 1024 };
  const sampleNoise = SAFE_METHODS.has(plan.copy.method);
  const [reference, candidate, second] = await Promise.all([
    client.send(plan.reference, plan.copy, limits),
    client.send(plan.candidate, plan.copy, limits),
    sampleNoise ? client.send(plan.reference, plan.copy, limits) : Promise.resolve(null),
  ]);
  await client.close();

  const out = (line: string) => process.stdout.write(`${line}\n`);
  out(`${plan.copy.method} ${plan.copy.target}${plan.route ? `  (route ${plan.route.name})` : ''}`);
  for (const [backend, outcome] of [
    [plan.reference, reference],
    [plan.candidate, candidate],
  ] as const)
    out(`  ${describeAnswer(backend, outcome)}`);
  if (!reference.ok || !candidate.ok) {
    process.stderr.write(`gateway compare: cannot compare: ${(reference.ok ? (candidate as { reason: string }) : reference).reason}\n`);
    return 2;
  }
  const noiseKeys = new Set(second?.ok ? plan.comparator.compare(reference, second).map((d) => d.key) : []);
  const { real, noisy } = splitNoise(plan.comparator.compare(reference, candidate), (difference) => noiseKeys.has(difference.key));
  if (plan.ignored.length > 0) out(`ignored: ${plan.ignored.join(', ')}`);
  if (noisy.length > 0) out(`noise (${plan.reference.name} itself answers these differently, not counted): ${noisy.map((d) => d.where).join(', ')}`);
  if (real.length === 0) {
    out('equal');
    return 0;
  }
  out(`different: ${real.length} difference${real.length === 1 ? '' : 's'} (${paint.primary(plan.reference.name)} → ${paint.candidate(plan.candidate.name)})`);
  for (const line of formatDifferences(real, paint)) out(`  ${line}`);
  return 1;
}

function describeAnswer(backend: Backend, outcome: ResponseOutcome): string {
  const name = backend.name.padEnd(10);
  if (!outcome.ok) return `${name} no answer  ${backend.origin}`;
  const answer: CapturedResponse = outcome;
  return `${name} ${answer.status}  ${String(answer.bodyBytes).padStart(6)} bytes  ${String(Math.round(answer.ms)).padStart(4)} ms  ${backend.origin}`;
}
