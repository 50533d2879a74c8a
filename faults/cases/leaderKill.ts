import { named, type FaultCase } from '../case.ts';
import { auditOf, electionWatcher, firstValue, rolloutSteps, startFleetLoad, stepAnomalies, timeUntil, withRollout } from '../fleet.ts';
import { startStand } from '../stand.ts';

const REPLICAS = 3;
const STEPS = Array.from({ length: 20 }, (_, i) => (i + 1) * 5);
/** GATEWAY_FLEET_TTL_SECONDS's default: the goal for a SIGKILLed leader is TTL + 1 s, for a stopped one 1 s (reported). */
const TTL_SECONDS = 5;
const GIVE_UP_MS = 3 * TTL_SECONDS * 1000;

/**
 * Three replicas on etcd run a 20-step rollout of the thoughts group (one step a second while
 * the gates pass). Its leader is SIGKILLed after two steps: another replica must lead within
 * the lease TTL (goal TTL + 1 s) and the rollout go on from the step where it was; then that
 * leader is stopped gracefully (SIGTERM): it resigns, and the last one must lead at once (goal
 * ≤ 1 s). The load goes through the replicas that are not killed. Counted as failed: a
 * takeover or a step after it that does not come within 15 s, a step repeated, skipped or
 * rolled back in the audit log, a failed request.
 */
export const leaderKillCase: FaultCase = {
  name: 'leader-kill',
  summary: `the rollout leader of ${REPLICAS} replicas SIGKILLed, the next one stopped (SIGTERM) → takeovers or steps missing, steps repeated or skipped`,
  async run({ clients }) {
    const stand = await startStand({ shares: { users: 0, thoughts: 0 }, fleet: REPLICAS, plan: withRollout(STEPS) });
    const election = electionWatcher(stand);
    try {
      const wrong: string[] = [];
      const first = await firstValue(() => election.leader(), GIVE_UP_MS);
      if (!first) throw new Error(`no replica leads the rollout within ${GIVE_UP_MS / 1000} s`);
      const load = startFleetLoad(
        stand.replicas.filter((replica) => replica !== first),
        clients,
        'leader-kill',
      );
      const steps = async () => rolloutSteps(await auditOf(stand.replicas.find((replica) => replica !== first)!)).length;
      if ((await timeUntil(async () => (await steps()) >= 2, performance.now(), GIVE_UP_MS)) === null) wrong.push('the rollout did not take 2 steps');

      // SIGKILL: no resignation, the lease runs out.
      const stepsBefore = await steps();
      const killed = performance.now();
      process.kill(first.process.pid, 'SIGKILL');
      await first.process.exited;
      const takeover = await timeUntil(async () => ![null, first].includes(await election.leader()), killed, GIVE_UP_MS);
      const resumed = takeover === null ? null : await timeUntil(async () => (await steps()) > stepsBefore, killed, GIVE_UP_MS);
      if (takeover === null) wrong.push(`no replica took over within ${GIVE_UP_MS / 1000} s of the leader's SIGKILL`);
      if (takeover !== null && resumed === null) wrong.push(`no step within ${GIVE_UP_MS / 1000} s of the leader's SIGKILL`);
      const counts = await load.stop();

      // SIGTERM: the leader resigns as it stops.
      const second = await election.leader();
      let handover: number | null = null;
      if (second) {
        const stopped = performance.now();
        const stop = second.process.stop();
        handover = await timeUntil(async () => ![null, second].includes(await election.leader()), stopped, GIVE_UP_MS);
        await stop;
        if (handover === null) wrong.push(`no replica took over within ${GIVE_UP_MS / 1000} s of the leader's SIGTERM`);
      }
      const survivor = stand.replicas.find((replica) => replica !== first && replica !== second)!;
      const written = rolloutSteps(await auditOf(survivor));
      wrong.push(...stepAnomalies(written, STEPS));
      const ms = (value: number | null) => (value === null ? 'never' : `${Math.round(value)} ms`);
      return {
        tried: written.length,
        failed: wrong.length + counts.failed,
        detail:
          `${written.length} steps written; leader ${first.id} SIGKILLed after ${stepsBefore}: ${takeover === null ? 'nobody' : 'another'} led after ${ms(takeover)} ` +
          `(goal ≤ TTL ${TTL_SECONDS} s + 1 s), next step after ${ms(resumed)}; leader ${second?.id ?? '?'} stopped (SIGTERM): handover after ${ms(handover)} (goal ≤ 1 s); ` +
          `${counts.tried} requests, ${counts.failed} failed${named([...wrong, ...counts.failures])}`,
      };
    } finally {
      election.close();
      await stand.stop();
    }
  },
};
