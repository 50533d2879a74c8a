// gateway/schema/routes.schema.json against the plans people actually write: the shipped
// ones, every plan example in the READMEs, and wrong plans that both the schema and the
// gateway's validator must refuse (faults/corpora/badPlans.ts, shared with `npm run faults`).
// (Every plan a gateway test runs is checked as well, in helpers/gateway.ts.)
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROUTES_SCHEMA_FILE } from '../src/cli/schema.ts';
import { compileRouteTable } from '../src/config/compileRouteTable.ts';
import { DEFAULTS, ROLLOUT_DEFAULTS, SHADOW_DEFAULTS } from '../src/config/routesConfig.ts';
import { SCHEMA_REFUSED_PLANS } from '../../faults/corpora/badPlans.ts';
import { ROUTES_SCHEMA, schemaErrors } from './helpers/routesSchema.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
const gatewayCli = (...args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'gateway/bin/gateway.mjs'), ...args], { encoding: 'utf8' });

/** The plan files the repo ships, each with the editor's schema line relative to itself. */
const SHIPPED = ['routes.yaml', 'bench/routes.bench.yaml', 'deploy/compose/routes.yaml'];

const PLAN_KEYS = Object.keys(ROUTES_SCHEMA.properties as object);

interface Example {
  readonly where: string;
  readonly value: unknown;
  /** The schema part it is checked against: the whole plan, a route, or a top-level section. */
  readonly pointer: string;
}

/**
 * The ```yaml blocks of every README that show a plan or part of one: a whole plan, a list
 * of routes, or top-level sections such as `protect:`. Other YAML (Prometheus, Kubernetes)
 * is left alone.
 */
function readmeExamples(): Example[] {
  const examples: Example[] = [];
  for (const file of git('ls-files', '*README.md').split('\n').filter(Boolean)) {
    const text = read(file);
    for (const block of text.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
      const where = `${file}:${text.slice(0, block.index).split('\n').length}`;
      const value = parse(block[1]!) as unknown;
      if (Array.isArray(value) && value.every((item) => typeof item === 'object' && item !== null && 'name' in item && 'match' in item)) {
        value.forEach((route, i) => examples.push({ where: `${where} [${i}]`, value: route, pointer: '#/$defs/route' }));
      } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const keys = Object.keys(value);
        if (keys.includes('backends') && keys.includes('routes')) examples.push({ where, value, pointer: '' });
        else if (keys.length > 0 && keys.every((key) => PLAN_KEYS.includes(key))) {
          for (const key of keys) examples.push({ where: `${where} ${key}`, value: (value as Record<string, unknown>)[key], pointer: `#/properties/${key}` });
        }
      }
    }
  }
  return examples;
}

describe('routes.schema.json', () => {
  it.each(SHIPPED)('accepts the shipped plan %s, which names it on its first line', (file) => {
    expect(schemaErrors(parse(read(file)))).toEqual([]);
    const first = read(file).split('\n')[0]!;
    const match = /^# yaml-language-server: \$schema=(\S+)$/.exec(first);
    expect(match, `${file}: first line`).not.toBeNull();
    expect(path.resolve(path.dirname(path.join(ROOT, file)), match![1]!)).toBe(ROUTES_SCHEMA_FILE);
  });

  it('accepts every plan example in the READMEs', () => {
    const examples = readmeExamples();
    // At least the route examples of the root README and gateway/README (shadow) are found.
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) expect(schemaErrors(example.value, example.pointer), example.where).toEqual([]);
  });

  it('describes every field, refuses unknown keys at every level, and states the code defaults', () => {
    const at = (pointer: string) =>
      pointer
        .split('/')
        .slice(1)
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], ROUTES_SCHEMA) as Record<string, unknown>;
    const undocumented: string[] = [];
    const open: string[] = [];
    const visit = (node: unknown, where: string) => {
      if (typeof node !== 'object' || node === null) return;
      const schema = node as Record<string, unknown>;
      if (schema.type === 'object' && schema.properties && schema.additionalProperties !== false) open.push(where);
      for (const [key, child] of Object.entries((schema.properties ?? {}) as Record<string, unknown>)) {
        if (typeof child !== 'object' || child === null) continue; // `false`: a key that must be absent
        const { description, $ref } = child as { description?: string; $ref?: string };
        if (!description && !(typeof $ref === 'string' && at($ref).description)) undocumented.push(`${where}/properties/${key}`);
      }
      for (const [key, child] of Object.entries(schema)) visit(child, `${where}/${key}`);
    };
    visit(ROUTES_SCHEMA, '#');
    expect(undocumented).toEqual([]);
    expect(open).toEqual([]);

    expect(at('#/$defs/backend/properties/connect_timeout_ms').default).toBe(DEFAULTS.connectTimeoutMs);
    expect(at('#/$defs/backend/properties/response_timeout_ms').default).toBe(DEFAULTS.responseTimeoutMs);
    expect(at('#/properties/outlier/properties/consecutive_failures').default).toBe(DEFAULTS.consecutiveFailures);
    expect(at('#/properties/outlier/properties/cooldown_seconds').default).toBe(DEFAULTS.cooldownSeconds);
    expect(at('#/properties/replay/properties/max_body_bytes').default).toBe(DEFAULTS.maxBodyBytes);
    expect(at('#/properties/cohort/properties/salt').default).toBe(DEFAULTS.salt);
    expect(at('#/properties/cohort/properties/keys').default).toEqual(DEFAULTS.cohortKeys);
    expect(at('#/properties/timeouts/properties/client_body_ms').default).toBe(DEFAULTS.clientBodyMs);
    expect(at('#/properties/protect').default).toEqual(DEFAULTS.protect);
    const shadow = (key: string) => at(`#/$defs/shadow/properties/${key}`).default;
    expect({
      percent: shadow('percent'),
      methods: shadow('methods'),
      headers: shadow('headers'),
      maxInFlight: shadow('max_in_flight'),
      timeoutMs: shadow('timeout_ms'),
      maxBodyBytes: shadow('max_body_bytes'),
      noisePercent: shadow('noise_percent'),
    }).toEqual(SHADOW_DEFAULTS);
    const rollout = (key: string) => at(`#/$defs/rollout/properties/${key}`).default;
    expect({
      intervalSeconds: rollout('interval_seconds'),
      minRequests: rollout('min_requests'),
      maxErrorPercent: rollout('max_error_percent'),
      maxP95Ms: rollout('max_p95_ms'),
      maxP95Ratio: rollout('max_p95_ratio'),
      maxMismatchPercent: rollout('max_mismatch_percent'),
      minComparisons: rollout('min_comparisons'),
      failureLimit: rollout('failure_limit'),
      onFailure: rollout('on_failure'),
    }).toEqual(ROLLOUT_DEFAULTS);
  });

  it('accepts a plan that uses every section and field, as the validator does', () => {
    const plan = `
protect: [/admin/**, /metrics, /internal/*/]
backends:
  legacy: { url: http://127.0.0.1:8001, legacy: true, connect_timeout_ms: 500, response_timeout_ms: 10000 }
  thoughts: { url: "http://127.0.0.1:8003/" }
cohort: { keys: [jwt:username, cookie:gw_cohort], salt: 2026 }
outlier: { consecutive_failures: 0, cooldown_seconds: 1 }
replay: { max_body_bytes: 0 }
timeouts: { client_body_ms: 5000 }
testers: [bruce, 42]
routes:
  - { name: admin, match: { path: /admin/** }, deny: 404 }
  - { name: internal, match: { path: [/metrics, /internal/**] }, deny: 403 }
  - name: thoughts
    match: { path: /api/thoughts/**, methods: [GET, head], headers: { X-Client: mobile, x-version: 2 } }
    group: thoughts
    split: { thoughts: 12.5, legacy: 87.5 }
    fallback: legacy
    shadow: { to: thoughts, percent: 50, methods: GET, ignore: ['$[*].timestamp', id], headers: [Content-Type], max_in_flight: 4, timeout_ms: 900, max_body_bytes: 100, noise_percent: 5 }
    rollout:
      steps: [5, 25, pause, 50, 100]
      interval_seconds: 60
      min_requests: 100
      max_error_percent: 1
      max_p95_ms: 500
      max_p95_ratio: 1.5
      max_mismatch_percent: 0.5
      min_comparisons: 50
      failure_limit: 2
      on_failure: pause
      notify: [http://hooks.internal/migration]
  - { name: site, match: { path: /** }, split: {} }
`;
    expect(schemaErrors(parse(plan))).toEqual([]);
    const compiled = compileRouteTable(plan, 'routes.yaml');
    expect(compiled.ok ? [] : compiled.problems).toEqual([]);
  });

  // Each wrong plan must fail the schema (editors underline it) AND the gateway's validator.
  it.each(SCHEMA_REFUSED_PLANS)('refuses $name', ({ text }) => {
    expect(schemaErrors(parse(text))).not.toEqual([]);
    expect(compileRouteTable(text, 'routes.yaml').ok).toBe(false);
  });
});

describe('gateway schema', () => {
  it('prints the schema file, its path with --path, and help with --help', () => {
    const printed = gatewayCli('schema');
    expect(printed.status).toBe(0);
    expect(printed.stdout).toBe(readFileSync(ROUTES_SCHEMA_FILE, 'utf8'));
    expect(JSON.parse(printed.stdout).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(gatewayCli('schema', '--path').stdout).toBe(`${ROUTES_SCHEMA_FILE}\n`);
    const help = gatewayCli('schema', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: gateway schema \[--path\]/);
    expect(gatewayCli('--help').stdout).toMatch(/^ {2}schema +print the JSON Schema of routes\.yaml/m);
  });

  it('refuses an unknown option with one clear line and the help, exit 1', () => {
    const result = gatewayCli('schema', '--out', 'x.json');
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^gateway: Unknown option '--out'/);
    expect(result.stderr).toContain('Usage: gateway schema');
  });
});
