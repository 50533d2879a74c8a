import { delay } from '../../bench/processes.ts';
import { named, type FaultCase } from '../case.ts';
import { servedVersion, shiftThrough, startFleetLoad, timesToServe } from '../fleet.ts';
import { startStand } from '../stand.ts';

const REPLICAS = 3;
/** The goal for the resync (reported); a replica that has not re-synced this long after etcd is back counts as failed. */
const GOAL_MS = 2_000;
const GIVE_UP_MS = 10_000;

/**
 * Three replicas on etcd; etcd is killed (SIGKILL, as a crash) for `outage` seconds. Meanwhile no
 * request of the load (on the two replicas that stay up) may fail, a shift through an admin API
 * must answer 503, and the third replica, restarted in the middle, must start from its plan
 * cache and serve.
 * When etcd is back (healthy), a shift is written through the first replica as soon as it takes
 * one: the resync time is from etcd's return until every replica serves it (goal ≤ 2 s).
 */
export const etcdDownCase: FaultCase = {
  name: 'etcd-down',
  summary: `etcd killed for the outage under load, ${REPLICAS} replicas, one restarted meanwhile → failed requests, writes not refused, a replica not back`,
  async run({ clients, outage }) {
    const stand = await startStand({ shares: { users: 50, thoughts: 50 }, fleet: REPLICAS });
    try {
      const etcd = stand.etcd!;
      // The load goes to the replicas that stay up; the one restarted is asked itself once back.
      const restarted = stand.replicas[REPLICAS - 1]!;
      const load = startFleetLoad(
        stand.replicas.filter((replica) => replica !== restarted),
        clients,
        'etcd-down',
      );
      const wrong: string[] = [];
      const before = await servedVersion(stand.gateway);
      await delay(1_000);
      await etcd.stop();
      const down = performance.now();
      // A write while the store is away: refused, nothing written.
      const refused = await shiftThrough(stand.gateway, 80, 'etcd-down: must be refused');
      if (refused.status !== 503) wrong.push(`a shift with etcd down answered ${refused.status} ${refused.message}, not 503`);
      // A replica restarted while etcd is away starts from its cache and serves the same plan.
      await restarted.process.stop();
      const again = await stand.restart(REPLICAS - 1).catch((error: Error) => {
        wrong.push(`${restarted.id} restarted with etcd down did not serve: ${error.message.split('\n')[0]}`);
        return null;
      });
      if (again && (await servedVersion(again)) !== before) wrong.push(`${again.id} restarted with etcd down does not serve the cached plan ${before}`);
      if (again) {
        const answer = await fetch(`${again.url}/api/thoughts/1/`);
        if (answer.status !== 200) wrong.push(`${again.id} restarted with etcd down answered ${answer.status}`);
      }
      await delay(Math.max(0, outage * 1000 - (performance.now() - down)));
      await etcd.start();
      const back = performance.now();
      let shift = await shiftThrough(stand.gateway, 70, 'etcd-down: after the outage');
      while (shift.status === 503 && performance.now() - back < GIVE_UP_MS) {
        await delay(20);
        shift = await shiftThrough(stand.gateway, 70, 'etcd-down: after the outage');
      }
      let resync = 'none';
      if (shift.status !== 200 || !shift.version) wrong.push(`the first shift after etcd returned answered ${shift.status} ${shift.message}`);
      else {
        const times = await timesToServe(stand.replicas, shift.version, back, GIVE_UP_MS);
        const late = stand.replicas.filter((_, r) => times[r] === null).map((replica) => replica.id);
        if (late.length > 0) wrong.push(`${late.join(', ')} did not serve the shift made after etcd returned within ${GIVE_UP_MS / 1000} s`);
        else resync = `${Math.round(Math.max(...(times as number[])))} ms (goal ≤ ${GOAL_MS} ms)`;
      }
      const counts = await load.stop();
      return {
        tried: counts.tried,
        failed: counts.failed + wrong.length,
        detail:
          `${counts.tried} requests by ${clients} clients over ${REPLICAS} replicas with etcd down ${outage} s: ${counts.failed} failed; ` +
          `a shift meanwhile answered ${refused.status}; ${restarted.id} restarted meanwhile served its cached plan: ${again ? 'yes' : 'no'}; ` +
          `etcd back → a shift served by every replica after ${resync}${named([...wrong, ...counts.failures])}`,
      };
    } finally {
      await stand.stop();
    }
  },
};
