import type { FaultCase } from '../case.ts';
import { ms, rolloutOf, runFleetRollout, watchTakeover } from '../fleetRollout.ts';

/** GATEWAY_FLEET_TTL_SECONDS's default; a leader that stops resigns, so the lease plays no part. */
const TTL_SECONDS = 5;
/** The goal (reported). */
const GOAL_MS = 1_000;
const GIVE_UP_MS = 3 * TTL_SECONDS * 1000;
/** compose's GATEWAY_DRAIN_DELAY_MS (k8s has 5 s, which the stand's 5 s stop bound would cut): the stopped leader still serves (draining) this long; the next step must not wait for it. */
const DRAIN_DELAY_MS = 3_000;

/**
 * Three replicas on etcd run a rollout of the thoughts group under load; two steps in, its
 * leader is stopped gracefully (SIGTERM): it resigns as it stops, and the next candidate leads
 * at once. The figure, the handover, is timed from the SIGTERM until the other replicas'
 * /api/rollout name a new leader that has resumed the rollout (its interval running): goal
 * ≤ 1 s. The replicas drain as in deploy/compose (GATEWAY_DRAIN_DELAY_MS 3 s): the old leader
 * says `draining` in the fleet and follows the plan meanwhile, and the new leader's next step
 * must not wait for its drain. Counted as failed: no new leader, check or step within 15 s, a
 * next step only after the drain delay, an exit other than 0, and runFleetRollout's (the
 * rollout not completed, a step repeated or skipped, a failed request).
 */
export const handoverCase: FaultCase = {
  name: 'handover',
  summary:
    'the rollout leader of 3 replicas on etcd stopped (SIGTERM) mid-rollout, under load → no handover, steps repeated or skipped, rollout not completed, failed requests',
  run: ({ clients }) =>
    runFleetRollout(
      'handover',
      clients,
      TTL_SECONDS,
      async ({ leader, others }) => {
        const before = await rolloutOf(others[0]!);
        const [stoppedAt, stopped] = [Date.now(), performance.now()];
        const stopping = leader.process.stop();
        const next = await watchTakeover(others, before, stoppedAt, stopped, GIVE_UP_MS);
        await stopping;
        const exit = await leader.process.exited;
        const wrong = [
          ...(next.nextStep === null ? [`no new leader resumed the rollout and stepped within ${GIVE_UP_MS / 1000} s of the leader's SIGTERM`] : []),
          ...(next.nextStep !== null && next.nextStep >= DRAIN_DELAY_MS
            ? [`the next step came ${ms(next.nextStep)} after the SIGTERM: it waited for ${leader.id}'s drain (${DRAIN_DELAY_MS} ms)`]
            : []),
          ...(exit === 0 ? [] : [`${leader.id} stopped with ${exit}, not exit code 0`]),
        ];
        return {
          detail:
            `${leader.id} stopped (SIGTERM) at ${before?.percent ?? '?'} %, exit ${exit}: ${next.leader?.id ?? 'nobody'} led and resumed the rollout after ${ms(next.resumed)} (goal ≤ ${GOAL_MS} ms), ` +
            `its first check after ${ms(next.firstCheck)}, next step after ${ms(next.nextStep)} (${leader.id} draining ${DRAIN_DELAY_MS} ms meanwhile)`,
          wrong,
        };
      },
      { GATEWAY_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS) },
    ),
};
