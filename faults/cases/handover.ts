import type { FaultCase } from '../case.ts';
import { ms, rolloutOf, runFleetRollout, watchTakeover } from '../fleetRollout.ts';

/** GATEWAY_FLEET_TTL_SECONDS's default; a leader that stops resigns, so the lease plays no part. */
const TTL_SECONDS = 5;
/** The goal (reported). */
const GOAL_MS = 1_000;
const GIVE_UP_MS = 3 * TTL_SECONDS * 1000;

/**
 * Three replicas on etcd run a rollout of the thoughts group under load; two steps in, its
 * leader is stopped gracefully (SIGTERM): it resigns as it stops, and the next candidate leads
 * at once. The figure, the handover, is timed from the SIGTERM until the other replicas'
 * /api/rollout name a new leader that has resumed the rollout (its interval running): goal
 * ≤ 1 s. Counted as failed: no new leader, check or step within 15 s, an exit other than 0,
 * and runFleetRollout's (the rollout not completed, a step repeated or skipped, a failed request).
 */
export const handoverCase: FaultCase = {
  name: 'handover',
  summary:
    'the rollout leader of 3 replicas on etcd stopped (SIGTERM) mid-rollout, under load → no handover, steps repeated or skipped, rollout not completed, failed requests',
  run: ({ clients }) =>
    runFleetRollout('handover', clients, TTL_SECONDS, async ({ leader, others }) => {
      const before = await rolloutOf(others[0]!);
      const [stoppedAt, stopped] = [Date.now(), performance.now()];
      const stopping = leader.process.stop();
      const next = await watchTakeover(others, before, stoppedAt, stopped, GIVE_UP_MS);
      await stopping;
      const exit = await leader.process.exited;
      const wrong = [
        ...(next.nextStep === null ? [`no new leader resumed the rollout and stepped within ${GIVE_UP_MS / 1000} s of the leader's SIGTERM`] : []),
        ...(exit === 0 ? [] : [`${leader.id} stopped with ${exit}, not exit code 0`]),
      ];
      return {
        detail:
          `${leader.id} stopped (SIGTERM) at ${before?.percent ?? '?'} %, exit ${exit}: ${next.leader?.id ?? 'nobody'} led and resumed the rollout after ${ms(next.resumed)} (goal ≤ ${GOAL_MS} ms), ` +
          `its first check after ${ms(next.firstCheck)}, next step after ${ms(next.nextStep)}`,
        wrong,
      };
    }),
};
