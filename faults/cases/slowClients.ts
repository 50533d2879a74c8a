import { cohortCookie } from '../../gateway/test/helpers/cohort.ts';
import { LOAD_PATHS, named, type FaultCase } from '../case.ts';
import { SLOW_CLIENTS } from '../corpora/slowClients.ts';
import { startLoad } from '../load.ts';
import { startStand, total } from '../stand.ts';

const CLIENT_BODY_MS = 500;

/**
 * Slow clients of every kind in the corpus POST to /api/me/thoughts/ (thoughts at 100 %) all at
 * once, `repeat` of each, while ordinary clients load the gateway. Each slow one must get 408;
 * the thoughts service, which was being streamed their bodies, must not be charged an upstream
 * error nor be ejected (the outlier detector ejects after 5 failures in a row), and ordinary
 * requests must not fail.
 */
export const slowClientsCase: FaultCase = {
  name: 'slow-clients',
  summary: 'slow clients (stalled, short and trickled bodies) → back-end ejections',
  async run({ clients, repeat }) {
    const stand = await startStand({
      shares: { users: 0, thoughts: 100 },
      plan: (text) => text.replace(/^routes:$/m, `timeouts: { client_body_ms: ${CLIENT_BODY_MS} }\nroutes:`),
    });
    try {
      const { gateway } = stand;
      const load = startLoad({ baseUrl: gateway.url, paths: LOAD_PATHS, clients, headers: (n) => ({ cookie: cohortCookie(`slow-${n}`) }) });
      const before = await gateway.metrics();
      const kinds = Object.entries(SLOW_CLIENTS);
      const replies = await Promise.all(
        kinds.flatMap(([kind, slowClient]) =>
          Array.from({ length: 5 * repeat }, () =>
            slowClient(`${gateway.url}/api/me/thoughts/`).then(
              (reply) => ({ kind, ...reply }),
              (error: Error) => ({ kind, status: 0, body: error.message }),
            ),
          ),
        ),
      );
      const counts = await load.stop();
      const after = await gateway.metrics();
      const delta = (name: string, labels: Record<string, string> = {}) => total(after, name, labels) - total(before, name, labels);
      const ejections = delta('gateway_backend_ejections_total');
      const upstreamErrors = delta('gateway_upstream_errors_total', { backend: 'thoughts' });
      const not408 = replies
        .filter((reply) => reply.status !== 408)
        .map((reply) => `${reply.kind}: ${reply.status || 'no answer'} ${reply.body.slice(0, 120)}`);
      return {
        tried: replies.length,
        failed: ejections + upstreamErrors + not408.length + counts.failed,
        detail:
          `${replies.length} slow clients (${kinds.length} kinds) beside ${counts.tried} ordinary requests: ${replies.length - not408.length} answered 408 after ${CLIENT_BODY_MS} ms; ` +
          `${ejections} ejections, ${upstreamErrors} upstream errors on thoughts, ${counts.failed} ordinary requests failed${named([...not408, ...counts.failures])}`,
      };
    } finally {
      await stand.stop();
    }
  },
};
