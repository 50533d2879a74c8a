import { delay } from '../../bench/processes.ts';
import { named, type FaultCase } from '../case.ts';
import { auditOf, electionWatcher, firstValue, rolloutSteps, startFleetLoad, stepAnomalies, timeUntil, withRollout } from '../fleet.ts';
import { startStand } from '../stand.ts';

const REPLICAS = 3;
const STEPS = Array.from({ length: 20 }, (_, i) => (i + 1) * 5);
/** A short lease, so that a frozen leader is deposed quickly. */
const TTL_SECONDS = 2;
const GIVE_UP_MS = 15_000;
/** How long the woken leader is watched: several of its check intervals (1 s). */
const AWAKE_MS = 4_000;

/**
 * argo-rollouts#2117, on purpose: the rollout leader of three replicas is frozen (SIGSTOP)
 * beyond its lease, so another replica leads and steps; then it is woken (SIGCONT) still
 * believing it leads, its check due at once. Every write it tries must be refused by etcd
 * (its election key is gone) and change nothing. Counted as failed: a step repeated, skipped
 * or rolled back in the audit log (what one of its writes getting through would leave), no
 * takeover or no step by the new leader, a failed request.
 */
export const deposedLeaderCase: FaultCase = {
  name: 'deposed-leader',
  summary: `the rollout leader of ${REPLICAS} replicas frozen past its lease, then woken → its writes that succeeded (steps repeated or skipped)`,
  async run({ clients }) {
    const stand = await startStand({
      shares: { users: 0, thoughts: 0 },
      fleet: REPLICAS,
      plan: withRollout(STEPS),
      gatewayEnv: { GATEWAY_FLEET_TTL_SECONDS: String(TTL_SECONDS) },
    });
    const election = electionWatcher(stand);
    try {
      const wrong: string[] = [];
      const frozen = await firstValue(() => election.leader(), GIVE_UP_MS);
      if (!frozen) throw new Error(`no replica leads the rollout within ${GIVE_UP_MS / 1000} s`);
      const others = stand.replicas.filter((replica) => replica !== frozen);
      const load = startFleetLoad(others, clients, 'deposed-leader');
      const steps = async () => rolloutSteps(await auditOf(others[0]!)).length;
      if ((await timeUntil(async () => (await steps()) >= 1, performance.now(), GIVE_UP_MS)) === null) wrong.push('the rollout did not take a step');

      process.kill(frozen.process.pid, 'SIGSTOP');
      const stoppedAt = performance.now();
      const stepsFrozen = await steps();
      const takeover = await timeUntil(async () => ![null, frozen].includes(await election.leader()), stoppedAt, GIVE_UP_MS);
      if (takeover === null) wrong.push(`no replica took over from the frozen leader within ${GIVE_UP_MS / 1000} s`);
      else if ((await timeUntil(async () => (await steps()) > stepsFrozen, stoppedAt, GIVE_UP_MS)) === null) wrong.push('the new leader took no step');
      const refusedBefore = refusals(frozen.log());
      process.kill(frozen.process.pid, 'SIGCONT');
      await delay(AWAKE_MS);
      const refused = refusals(frozen.log()) - refusedBefore;
      const counts = await load.stop();
      const written = rolloutSteps(await auditOf(others[0]!));
      const anomalies = stepAnomalies(written, STEPS);
      return {
        tried: written.length,
        failed: anomalies.length + wrong.length + counts.failed,
        detail:
          `${frozen.id} frozen after ${stepsFrozen} steps, another led after ${takeover === null ? 'never' : `${Math.round(takeover)} ms`} (TTL ${TTL_SECONDS} s); ` +
          `woken for ${AWAKE_MS / 1000} s: ${refused} of its writes refused by etcd, ${anomalies.length} got through (steps repeated or skipped); ` +
          `${written.length} steps in the audit log; ${counts.tried} requests, ${counts.failed} failed${named([...anomalies, ...wrong, ...counts.failures])}`,
      };
    } finally {
      election.close();
      await stand.stop();
    }
  },
};

/** The rollout writes a replica logged as refused because it no longer leads. */
function refusals(log: string): number {
  return log.split('\n').filter((line) => line.includes('not the rollout leader any more')).length;
}
