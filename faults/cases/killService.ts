import { delay } from '../../bench/processes.ts';
import { cohortCookie } from '../../gateway/test/helpers/cohort.ts';
import { named, type FaultCase } from '../case.ts';
import { startLoad } from '../load.ts';
import { startStand, total } from '../stand.ts';

/**
 * The thoughts service (at 100 %, fallback legacy) is SIGKILLed a third of the way through the
 * load: no GET may fail, the gateway retrying each one the dead service could not answer on the
 * monolith. The case also checks that the service did serve before the kill and that the gateway
 * saw it die, or there was no fault to survive.
 */
export const killServiceCase: FaultCase = {
  name: 'kill-service',
  summary: 'the new thoughts service SIGKILLed under load → failed GETs',
  async run({ clients, seconds }) {
    const stand = await startStand({ shares: { users: 100, thoughts: 100 }, processes: ['thoughts'] });
    try {
      const { gateway } = stand;
      const load = startLoad({
        baseUrl: gateway.url,
        paths: ['/api/thoughts/', '/api/thoughts/1/', '/api/thoughts/?search=few'],
        clients,
        headers: (n) => ({ cookie: cohortCookie(`kill-${n}`) }),
      });
      await delay((seconds * 1000) / 3);
      const beforeKill = load.counts().tried;
      stand.backEnds.thoughts!.child.kill('SIGKILL');
      await delay((seconds * 2000) / 3);
      const counts = await load.stop();
      const metrics = await gateway.metrics();
      const byThoughts = total(metrics, 'gateway_requests_total', { backend: 'thoughts' });
      const upstreamErrors = total(metrics, 'gateway_upstream_errors_total', { backend: 'thoughts' });
      const byLegacy = total(metrics, 'gateway_requests_total', { backend: 'legacy' });
      const vacuous = [
        ...(byThoughts === 0 ? ['the thoughts service served nothing before the kill'] : []),
        ...(upstreamErrors === 0 ? ['the gateway saw no error from the killed service'] : []),
        ...(byLegacy === 0 ? ['the monolith served nothing after the kill'] : []),
      ];
      return {
        tried: counts.tried,
        failed: counts.failed + vacuous.length,
        detail:
          `${counts.tried} GETs by ${clients} clients over ${seconds} s, SIGKILL after ${beforeKill}: thoughts served ${byThoughts}, ` +
          `legacy ${byLegacy} (fallback after ${upstreamErrors} upstream errors); ${counts.failed} failed${named([...vacuous, ...counts.failures])}`,
      };
    } finally {
      await stand.stop();
    }
  },
};
