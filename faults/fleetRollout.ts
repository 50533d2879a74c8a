import type { AuditEntry } from '../gateway/src/plan/auditLog.ts';
import type { RolloutView } from '../gateway/src/rollout/rolloutView.ts';
import type { CaseResult } from './case.ts';
import { named } from './case.ts';
import { startFleetLoad } from './fleet.ts';
import type { Load } from './load.ts';
import { startStand, type GatewayProcess, type Stand } from './stand.ts';

/**
 * The fleet rollout cases (`leader-kill`, `handover`, `deposed-leader`): three replicas on etcd
 * run one rollout of the thoughts group under load, a fault hits its leader mid-rollout, and
 * the rollout must still reach 100 % with every step written exactly once. What they ask is
 * what an operator sees: who leads and where the rollout stands (any replica's /api/rollout,
 * which names the leader), and the steps written (the store's audit, through /api/audit).
 */

const REPLICAS = 3;
/** Eight steps of one interval each: with the fault's pause, the rollout ends in about 20 s. */
const ROLLOUT_STEPS = [5, 10, 20, 30, 40, 50, 75, 100] as const;
/** The leader is hit once the rollout stands at this step (two steps written after the start): it has steps behind and ahead. */
const HIT_AT_STEP = 2;
const LEADER_WITHIN_MS = 20_000;
/** Bound on the steps before the fault and on the end of the rollout after it (a busy 2-core machine). */
const STEPS_WITHIN_MS = 60_000;

/**
 * The shipped plan with a progressive rollout on the thoughts group: one check a second, on the
 * fleet's numbers (each replica publishes its counters every 250 ms, so a 1 s interval holds
 * several), with gates any healthy thoughts service passes, the shadow's answers included:
 * these cases are about who steps, not whether. `min_requests: 3` is met at 5 % as the load
 * sends a fresh cohort cookie with every request.
 */
function withRollout(text: string): string {
  return text.replace(
    /^( {2}- name: thoughts\n(?: {4}.*\n)*? {4}fallback: legacy\n)/m,
    `$1    rollout: { steps: [${ROLLOUT_STEPS.join(', ')}], interval_seconds: 1, min_requests: 3, max_error_percent: 5, max_p95_ms: 5000, max_p95_ratio: 50, max_mismatch_percent: 100, min_comparisons: 0 }\n`,
  );
}

/**
 * The thoughts rollout as `replica` shows it (its own, or the leader's passed on); null when it
 * cannot answer within `timeoutMs` (a follower asking a frozen leader waits for it).
 */
export async function rolloutOf(replica: GatewayProcess, timeoutMs = 2_000): Promise<RolloutView | null> {
  try {
    const response = await fetch(`${replica.adminUrl}/api/rollout/thoughts`, { signal: AbortSignal.timeout(timeoutMs) });
    return response.ok ? ((await response.json()) as RolloutView) : null;
  } catch {
    return null;
  }
}

/**
 * The leader every one of `asked` names (one of `among`) once they agree, with the rollout as
 * it answered (the leader's own controller: it has read the progress from etcd and resumed);
 * null while they do not agree or cannot answer within `timeoutMs`.
 */
async function agreedLeader(
  asked: readonly GatewayProcess[],
  among: readonly GatewayProcess[],
  timeoutMs?: number,
): Promise<{ readonly replica: GatewayProcess; readonly view: RolloutView } | null> {
  const views = await Promise.all(asked.map((replica) => rolloutOf(replica, timeoutMs)));
  const named = new Set(views.map((view) => view?.leader ?? null));
  const replica = named.size === 1 ? among.find((candidate) => candidate.id === [...named][0]) : undefined;
  return replica ? { replica, view: views[0]! } : null;
}

/** The audit log's entries, oldest first, as a replica's admin API serves them (the store's: one for the fleet). */
export async function auditOf(replica: GatewayProcess): Promise<AuditEntry[]> {
  const response = await fetch(`${replica.adminUrl}/api/audit?limit=1000`);
  if (!response.ok) throw new Error(`${replica.adminUrl}/api/audit answered ${response.status}`);
  return [...((await response.json()) as { entries: AuditEntry[] }).entries].reverse();
}

/** The rollout's writes in the audit log, oldest first: each step and rollback of the thoughts route. */
export function rolloutWrites(entries: readonly AuditEntry[]): AuditEntry[] {
  return entries.filter((entry) => entry.via === 'rollout' && entry.route === 'thoughts');
}

/** Writes that repeat a step already written, skip one, or roll back: what a second controller writing beside the leader leaves. */
function stepAnomalies(written: readonly AuditEntry[]): string[] {
  const anomalies: string[] = [];
  let at = -1;
  for (const entry of written) {
    const percent = entry.new.thoughts ?? 0;
    if (entry.action !== 'step') {
      anomalies.push(`a ${entry.action} to ${percent} %`);
      continue;
    }
    const index = ROLLOUT_STEPS.indexOf(percent as (typeof ROLLOUT_STEPS)[number]);
    if (index === at) anomalies.push(`step to ${percent} % written twice`);
    else if (index !== at + 1) anomalies.push(`step to ${percent} % after ${ROLLOUT_STEPS[at] ?? 'the start'} (skipped or out of order)`);
    at = Math.max(at, index);
  }
  if (at !== ROLLOUT_STEPS.length - 1) anomalies.push(`the rollout stopped at ${ROLLOUT_STEPS[at] ?? 0} %, not 100 %`);
  return anomalies;
}

/** Polls `check` every 20 ms: the milliseconds from `since` until it held, or null after `withinMs`. */
async function timeUntil(check: () => Promise<boolean>, since: number, withinMs: number): Promise<number | null> {
  for (;;) {
    if (await check()) return performance.now() - since;
    if (performance.now() - since > withinMs) return null;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How the rollout went on after its leader was hit, each in ms from the hit (null: not within the bound). */
export interface Takeover {
  /** The replica the others agree leads now. */
  readonly leader: GatewayProcess | null;
  /** Until the others name a new leader whose interval runs (it read the progress from etcd and resumed the rollout, a check due). */
  readonly resumed: number | null;
  /** Until the rollout shows a check made after the hit (saved in etcd's rollout/progress before it is shown): one interval after `resumed`. */
  readonly firstCheck: number | null;
  /** Until the rollout stands at a later step than `before`. */
  readonly nextStep: number | null;
}

/**
 * Watches the replicas the fault spared (`others`) after the leader was hit at `hitAt` (unix
 * ms) = `since` (performance.now). `timeoutMs` bounds each question (short when a follower
 * may pass it on to a frozen leader).
 */
export async function watchTakeover(
  others: readonly GatewayProcess[],
  before: RolloutView | null,
  hitAt: number,
  since: number,
  withinMs: number,
  timeoutMs?: number,
): Promise<Takeover> {
  let leader: GatewayProcess | null = null;
  const resumed = await timeUntil(
    async () => {
      const agreed = await agreedLeader(others, others, timeoutMs);
      leader = agreed?.replica ?? null;
      return agreed !== null && agreed.view.nextCheckInSeconds !== null;
    },
    since,
    withinMs,
  );
  if (resumed === null) return { leader, resumed, firstCheck: null, nextStep: null };
  const asked = () => rolloutOf(others[0]!, timeoutMs);
  const firstCheck = await timeUntil(async () => Date.parse((await asked())?.lastCheck?.time ?? '') > hitAt, since, withinMs);
  const nextStep = await timeUntil(async () => ((await asked())?.stepIndex ?? -1) > (before?.stepIndex ?? Infinity), since, withinMs);
  return { leader, resumed, firstCheck, nextStep };
}

/** Milliseconds until `replica` shows the rollout completed, or null after a minute. */
export function completion(replica: GatewayProcess): Promise<number | null> {
  return timeUntil(async () => (await rolloutOf(replica))?.status === 'completed', performance.now(), STEPS_WITHIN_MS);
}

/** A duration for a detail line. */
export function ms(value: number | null): string {
  return value === null ? 'never' : `${Math.round(value)} ms`;
}

/** Where a fault case stands when it hits the leader: the rollout two steps in, the load on the other replicas. */
export interface RolloutUnderWay {
  readonly stand: Stand;
  readonly leader: GatewayProcess;
  /** The replicas the fault spares: the load goes through them, and they are asked. */
  readonly others: readonly GatewayProcess[];
  readonly load: Load;
}

/** What the fault did: its figures for the detail line, and what went wrong (each counts as failed). */
export interface FaultOutcome {
  readonly detail: string;
  readonly wrong: readonly string[];
}

/**
 * Runs one fleet rollout case: three replicas on etcd (lease TTL `ttlSeconds`) with the
 * rollout plan; once they agree on a leader the load starts on the other two, and once the
 * rollout stands at its third step with its interval running `fault` hits the leader. Then the
 * rollout must complete at 100 % within a minute, the audit must show every step exactly once,
 * in order, and no request may fail. `tried` is the rollout's writes plus the requests.
 */
export async function runFleetRollout(
  name: string,
  clients: number,
  ttlSeconds: number,
  fault: (rollout: RolloutUnderWay) => Promise<FaultOutcome>,
  gatewayEnv: Readonly<Record<string, string>> = {},
): Promise<CaseResult> {
  const stand = await startStand({
    shares: { users: 0, thoughts: 0 },
    fleet: REPLICAS,
    plan: withRollout,
    gatewayEnv: { GATEWAY_FLEET_TTL_SECONDS: String(ttlSeconds), GATEWAY_FLEET_PUBLISH_MS: '250', ...gatewayEnv },
  });
  try {
    let leader: GatewayProcess | undefined;
    await timeUntil(async () => (leader = (await agreedLeader(stand.replicas, stand.replicas))?.replica) !== undefined, performance.now(), LEADER_WITHIN_MS);
    if (!leader) throw new Error(`the replicas did not agree on a rollout leader within ${LEADER_WITHIN_MS / 1000} s`);
    const hit: GatewayProcess = leader;
    const others = stand.replicas.filter((replica) => replica !== hit);
    const load = startFleetLoad(others, clients, name);
    const wrong: string[] = [];
    // Hit inside the step's interval (the fleet serves the step's plan and the check is due), not in the moment between its write and its interval.
    const stepped = await timeUntil(
      async () => {
        const view = await rolloutOf(others[0]!);
        return (view?.stepIndex ?? -1) >= HIT_AT_STEP && view?.nextCheckInSeconds !== null;
      },
      performance.now(),
      STEPS_WITHIN_MS,
    );
    if (stepped === null) wrong.push(`the rollout did not reach ${ROLLOUT_STEPS[HIT_AT_STEP]} % within ${STEPS_WITHIN_MS / 1000} s (no fault applied)`);
    const outcome = stepped === null ? { detail: 'no fault applied', wrong: [] } : await fault({ stand, leader: hit, others, load });
    wrong.push(...outcome.wrong);
    const completed = await completion(others[0]!);
    if (completed === null) wrong.push(`the rollout did not complete within ${STEPS_WITHIN_MS / 1000} s of the fault`);
    const counts = await load.stop();
    const written = rolloutWrites(await auditOf(others[0]!));
    const anomalies = stepAnomalies(written);
    return {
      tried: written.length + counts.tried,
      failed: wrong.length + anomalies.length + counts.failed,
      detail:
        `${outcome.detail}; ${written.length} rollout writes in the audit (${written.map((entry) => entry.new.thoughts ?? 0).join(' → ')} %), ` +
        `${anomalies.length} repeated or skipped; ${counts.tried} requests, ${counts.failed} failed${named([...wrong, ...anomalies, ...counts.failures])}`,
    };
  } finally {
    await stand.stop();
  }
}
