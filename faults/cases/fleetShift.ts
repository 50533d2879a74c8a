import { named, type FaultCase } from '../case.ts';
import { percentile, shiftThrough, startFleetLoad, timesToServe } from '../fleet.ts';
import { startStand } from '../stand.ts';

const REPLICAS = 3;
const SHIFTS = 20;
/** The goal for the p99 (reported); a replica that has not applied a shift this long after it counts as failed. */
const GOAL_MS = 1_000;
const GIVE_UP_MS = 5_000;

/**
 * Three replicas on one plan in etcd, under load: twenty shifts, each made through the next
 * replica's admin API in turn (the thoughts share changes every time). Each is timed from the
 * moment it is sent until every replica serves the new version on its /api/plan: the figure is
 * the p99 of those (the slowest replica of each shift). A shift refused, or not served by every
 * replica within 5 s, and a failed request of the load count as failed.
 */
export const fleetShiftCase: FaultCase = {
  name: 'fleet-shift',
  summary: `${SHIFTS} shifts through the admin APIs of ${REPLICAS} replicas on etcd, under load → shifts not served by every replica, failed requests`,
  async run({ clients }) {
    const stand = await startStand({ shares: { users: 0, thoughts: 0 }, fleet: REPLICAS });
    try {
      const load = startFleetLoad(stand.replicas, clients, 'fleet-shift');
      const wrong: string[] = [];
      const slowest: number[] = [];
      for (let i = 0; i < SHIFTS; i++) {
        const through = stand.replicas[i % REPLICAS]!;
        const percent = ((i * 37) % 95) + 5;
        const sent = performance.now();
        const shift = await shiftThrough(through, percent, `fleet-shift ${i + 1}`);
        if (shift.status !== 200 || !shift.version) {
          wrong.push(`shift ${i + 1} through ${through.id}: ${shift.status} ${shift.message}`);
          continue;
        }
        const times = await timesToServe(stand.replicas, shift.version, sent, GIVE_UP_MS);
        const late = stand.replicas.filter((_, r) => times[r] === null).map((replica) => replica.id);
        if (late.length > 0) wrong.push(`shift ${i + 1} (thoughts ${percent} %) not served by ${late.join(', ')} within ${GIVE_UP_MS / 1000} s`);
        else slowest.push(Math.max(...(times as number[])));
      }
      const counts = await load.stop();
      const figure =
        slowest.length > 0
          ? `every replica served it after p50 ${percentile(slowest, 50)} ms, p99 ${percentile(slowest, 99)} ms, max ${percentile(slowest, 100)} ms (goal p99 ≤ ${GOAL_MS} ms)`
          : 'no shift reached every replica';
      return {
        tried: SHIFTS,
        failed: wrong.length + counts.failed,
        detail: `${SHIFTS} shifts through ${REPLICAS} replicas' admin APIs in turn, beside ${counts.tried} requests (${counts.failed} failed): ${figure}${named([...wrong, ...counts.failures])}`,
      };
    } finally {
      await stand.stop();
    }
  },
};
