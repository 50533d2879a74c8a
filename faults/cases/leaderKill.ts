import type { FaultCase } from '../case.ts';
import { ms, rolloutOf, runFleetRollout, watchTakeover } from '../fleetRollout.ts';

/** GATEWAY_FLEET_TTL_SECONDS's default: a SIGKILLed leader's campaign lasts until its lease runs out. */
const TTL_SECONDS = 5;
/** The goal (reported): the rollout goes on within the lease TTL + 1 s. */
const GOAL_MS = (TTL_SECONDS + 1) * 1000;
const GIVE_UP_MS = 3 * TTL_SECONDS * 1000;

/**
 * Three replicas on etcd run a rollout of the thoughts group under load (one check a second);
 * two steps in, its leader is SIGKILLed: it cannot resign, so the next leader is elected only
 * once its lease has run out. The figure, "the rollout continues", is timed from the kill until
 * the other replicas' /api/rollout name a new leader that has resumed the rollout from etcd (its
 * interval running, a check due): goal ≤ TTL + 1 s. Its first check (one interval later) and
 * its next step are timed too. Counted as failed: no new leader, check or step within 15 s, and
 * runFleetRollout's (the rollout not completed, a step repeated or skipped, a failed request).
 */
export const leaderKillCase: FaultCase = {
  name: 'leader-kill',
  summary:
    'the rollout leader of 3 replicas on etcd SIGKILLed mid-rollout, under load → no new leader, steps repeated or skipped, rollout not completed, failed requests',
  run: ({ clients }) =>
    runFleetRollout('leader-kill', clients, TTL_SECONDS, async ({ leader, others }) => {
      const before = await rolloutOf(others[0]!);
      const [killedAt, killed] = [Date.now(), performance.now()];
      process.kill(leader.process.pid, 'SIGKILL');
      await leader.process.exited;
      const next = await watchTakeover(others, before, killedAt, killed, GIVE_UP_MS);
      const wrong = next.nextStep === null ? [`no new leader resumed the rollout and stepped within ${GIVE_UP_MS / 1000} s of the leader's SIGKILL`] : [];
      return {
        detail:
          `${leader.id} SIGKILLed at ${before?.percent ?? '?'} % (TTL ${TTL_SECONDS} s): ${next.leader?.id ?? 'nobody'} led and resumed the rollout after ${ms(next.resumed)} (goal ≤ ${GOAL_MS} ms), ` +
          `its first check after ${ms(next.firstCheck)}, next step after ${ms(next.nextStep)}`,
        wrong,
      };
    }),
};
