import { delay } from '../../bench/processes.ts';
import { cohortCookie } from '../../gateway/test/helpers/cohort.ts';
import { LOAD_PATHS, named, type FaultCase } from '../case.ts';
import { startLoad } from '../load.ts';
import { eventually, startStand } from '../stand.ts';

/** Long enough for the load balancer below (which polls every 100 ms) to see /readyz turn 503, even on a busy machine. */
const DRAIN_DELAY_MS = 2_000;

/**
 * The gateway is SIGTERMed under load, as Kubernetes stops a pod: with GATEWAY_DRAIN_DELAY_MS it
 * answers /readyz 503 while still serving; the clients play the load balancer, polling /readyz
 * every 100 ms and sending no new request once it says 503. Every request sent until then must be
 * answered (none dropped), and the gateway must exit 0.
 */
export const sigtermCase: FaultCase = {
  name: 'sigterm',
  summary: 'the gateway SIGTERMed under load (drain delay 2 s) → requests dropped',
  async run({ clients, seconds }) {
    const stand = await startStand({ shares: { users: 50, thoughts: 50 }, gatewayEnv: { GATEWAY_DRAIN_DELAY_MS: String(DRAIN_DELAY_MS) } });
    try {
      const { gateway } = stand;
      const load = startLoad({ baseUrl: gateway.url, paths: LOAD_PATHS, clients, headers: (n) => ({ cookie: cohortCookie(`sigterm-${n}`) }) });
      await delay((seconds * 1000) / 2);
      const beforeSignal = load.counts().tried;
      process.kill(gateway.process.pid, 'SIGTERM');
      const outOfRotation = await eventually(async () => {
        await delay(100);
        // A probe that cannot connect takes the gateway out of rotation as surely as a 503.
        return fetch(`${gateway.adminUrl}/readyz`).then(
          (response) => response.status === 503,
          () => true,
        );
      }, DRAIN_DELAY_MS);
      const counts = await load.stop();
      const exit = await Promise.race([gateway.process.exited, delay(15_000).then(() => 'still running 15 s after SIGTERM')]);
      const wrong = [...(outOfRotation ? [] : [`/readyz did not answer 503 within ${DRAIN_DELAY_MS} ms of SIGTERM`]), ...(exit === 0 ? [] : [`exit ${exit}`])];
      return {
        tried: counts.tried,
        failed: counts.failed + wrong.length,
        detail: `${counts.tried} requests by ${clients} clients, ${counts.tried - beforeSignal} of them after SIGTERM until /readyz said 503; exit ${exit}; ${counts.failed} dropped${named([...wrong, ...counts.failures])}`,
      };
    } finally {
      await stand.stop();
    }
  },
};
