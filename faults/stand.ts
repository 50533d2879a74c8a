import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startGatewayProcess } from '../bench/gatewayProcess.ts';
import { REPO_ROOT } from '../bench/paths.ts';
import { freePort, type Server } from '../bench/processes.ts';
import { TEST_COHORT_SECRET } from '../gateway/test/helpers/cohort.ts';
import { parseMetrics } from '../gateway/test/helpers/routes.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../tests/support/etcd.ts';
import { planWith, type Shares } from '../tests/support/gatewayInFront.ts';
import { spawnBackEnd, type BackEndProcess } from '../tests/support/processes.ts';
import { startSystem, type MyThoughtsSystem } from '../tests/support/system.ts';

/**
 * What a fault case runs against: the real MyThoughts back ends on a fresh SQLite database and
 * the real gateway as its own process (`gateway serve`, as `npm start` runs it) with the shipped
 * routes.yaml at the given shares — or, with `fleet`, several gateway replicas on one plan in a
 * throwaway etcd (pushed with `gateway plan push`, as compose and the Kubernetes Job do). Back
 * ends named in `processes` run as their own processes with their logs on (to be killed, or to
 * read what reached them); the others in this process.
 */
export type BackEndName = 'legacy' | 'users' | 'thoughts';

export interface StandOptions {
  readonly shares: Shares;
  readonly processes?: readonly BackEndName[];
  /** An edit of the plan after the shares are set (e.g. adding a `timeouts:` section). */
  readonly plan?: (text: string) => string;
  /** Gateway variables on top of the stand's (e.g. GATEWAY_DRAIN_DELAY_MS). */
  readonly gatewayEnv?: Readonly<Record<string, string>>;
  /** This many gateway replicas on the plan in a throwaway etcd (GATEWAY_PLAN_STORE); unset: one gateway on routes.yaml. */
  readonly fleet?: number;
}

export interface GatewayProcess {
  /** GATEWAY_REPLICA_ID (`replica-N` in a fleet, `gateway` alone). */
  readonly id: string;
  readonly url: string;
  readonly adminUrl: string;
  readonly process: Server;
  readonly routesFile: string;
  /** Everything the gateway wrote so far (its JSON log lines, access lines included). */
  log(): string;
  /** Replaces routes.yaml as editors do: a temporary file renamed over it (a gateway on routes.yaml only). */
  rewrite(text: string): void;
  /** Its admin /metrics, parsed (see parseMetrics). */
  metrics(): Promise<Map<string, number>>;
}

export interface Stand {
  readonly system: MyThoughtsSystem;
  readonly backEnds: Readonly<Partial<Record<BackEndName, BackEndProcess>>>;
  /** The gateway (the first replica of a fleet). */
  readonly gateway: GatewayProcess;
  /** Every gateway replica, running or not (a case may kill one; `restart` brings it back). */
  readonly replicas: readonly GatewayProcess[];
  /** The fleet's etcd (stop/start it for an outage), or null for a gateway on routes.yaml. */
  readonly etcd: ThrowawayEtcd | null;
  /** GATEWAY_PLAN_STORE of the fleet (for `gateway` commands on the store), or null. */
  readonly storeUrl: string | null;
  /** Starts replica `index` again, with its id, ports and plan cache, and waits until it serves. */
  restart(index: number): Promise<GatewayProcess>;
  /** The shipped plan at `shares` with this stand's edit: what the gateway started with. */
  readonly planText: (shares: Shares) => string;
  stop(): Promise<void>;
}

const ENTRY: Record<BackEndName, readonly [entry: string, portVariable: string]> = {
  legacy: ['legacy-monolith/src/main.ts', 'LEGACY_PORT'],
  users: ['services/users/src/main.ts', 'USERS_PORT'],
  thoughts: ['services/thoughts/src/main.ts', 'THOUGHTS_PORT'],
};

export async function startStand(options: StandOptions): Promise<Stand> {
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'mythoughts-faults-'));
  // Its own folder: the gateway watches the plan's directory, and its log file must not be in it.
  const planDir = path.join(tmpDir, 'plan');
  mkdirSync(planDir);
  const routesFile = path.join(planDir, 'routes.yaml');
  const system = await startSystem('sqlite');
  const backEnds: Partial<Record<BackEndName, BackEndProcess>> = {};
  const replicas: GatewayProcess[] = [];
  let etcd: ThrowawayEtcd | null = null;
  const stop = async () => {
    await Promise.all(replicas.map((replica) => replica.process.stop()));
    for (const backEnd of Object.values(backEnds)) backEnd.child.kill('SIGKILL');
    await etcd?.close();
    await system.stop();
    rmSync(tmpDir, { recursive: true, force: true });
  };
  try {
    for (const name of options.processes ?? []) {
      const [entry, portVariable] = ENTRY[name];
      backEnds[name] = await spawnBackEnd(entry, portVariable, { ...system.env, LOG_LEVEL: 'info' });
    }
    const urlOf = (name: BackEndName) => backEnds[name]?.url ?? system[`${name}Url`];
    const planText = (shares: Shares) => (options.plan ?? ((text: string) => text))(planWith(path.join(REPO_ROOT, 'routes.yaml'), shares));
    writeFileSync(routesFile, planText(options.shares));
    const count = options.fleet ?? 1;
    let storeUrl: string | null = null;
    if (options.fleet !== undefined) {
      etcd = await startThrowawayEtcd();
      storeUrl = etcd.storeUrl('faults');
      pushPlan(storeUrl, routesFile);
    }
    const ports = await Promise.all(Array.from({ length: count }, async () => [await freePort(), await freePort()] as const));
    const start = async (index: number): Promise<GatewayProcess> => {
      const [port, adminPort] = ports[index]!;
      const id = storeUrl ? `replica-${index}` : 'gateway';
      const adminUrl = `http://127.0.0.1:${adminPort}`;
      const server = await startGatewayProcess({
        name: id,
        port,
        adminPort,
        routesFile,
        tmpDir,
        probePath: '/api/thoughts/1/',
        env: {
          GATEWAY_BACKEND_LEGACY_URL: urlOf('legacy'),
          GATEWAY_BACKEND_USERS_URL: urlOf('users'),
          GATEWAY_BACKEND_THOUGHTS_URL: urlOf('thoughts'),
          JWT_PUBLIC_KEY_FILE: system.env.JWT_PUBLIC_KEY_FILE!,
          // The tests' secret, so a case can name its clients with cohortCookie().
          GATEWAY_COHORT_SECRET: TEST_COHORT_SECRET,
          ...(storeUrl
            ? {
                GATEWAY_PLAN_STORE: storeUrl,
                GATEWAY_REPLICA_ID: id,
                GATEWAY_ADVERTISE_ADMIN_URL: adminUrl,
                GATEWAY_PLAN_CACHE: path.join(tmpDir, id, 'plan-cache.yaml'),
              }
            : {}),
          ...options.gatewayEnv,
        },
      });
      const replica = gatewayProcess(id, server, port, adminUrl, planDir, routesFile);
      replicas[index] = replica;
      return replica;
    };
    for (let index = 0; index < count; index++) await start(index);
    return {
      system,
      backEnds,
      gateway: replicas[0]!,
      replicas,
      etcd,
      storeUrl,
      planText,
      restart: start,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `gateway plan push FILE` on the store, as compose's plan-push and the Kubernetes Job run it. */
function pushPlan(storeUrl: string, file: string): void {
  const pushed = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(REPO_ROOT, 'gateway/src/cli.ts'), 'plan', 'push', file, '--reason', 'faults stand'],
    {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH, GATEWAY_PLAN_STORE: storeUrl, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    },
  );
  if (pushed.status !== 0) throw new Error(`gateway plan push ${file} failed (${pushed.status}): ${pushed.stdout}${pushed.stderr}`);
}

function gatewayProcess(id: string, server: Server, port: number, adminUrl: string, planDir: string, routesFile: string): GatewayProcess {
  let rewrites = 0;
  return {
    id,
    url: `http://127.0.0.1:${port}`,
    adminUrl,
    process: server,
    routesFile,
    log: () => readFileSync(server.logFile, 'utf8'),
    rewrite(text) {
      const temporary = path.join(planDir, `.routes.yaml.${rewrites++}.tmp`);
      writeFileSync(temporary, text);
      renameSync(temporary, routesFile);
    },
    async metrics() {
      const response = await fetch(`${adminUrl}/metrics`);
      const text = await response.text();
      if (!response.ok) throw new Error(`${adminUrl}/metrics answered ${response.status}: ${text}`);
      return parseMetrics(text);
    },
  };
}

/** The sum of every sample of `name` whose labels include all of `labels` (e.g. all backends of a counter). */
export function total(metrics: Map<string, number>, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const [key, value] of metrics) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([label, v]) => key.includes(`${label}="${v}"`))) sum += value;
  }
  return sum;
}

/** Polls `check` every 25 ms until it returns true; false after `withinMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
