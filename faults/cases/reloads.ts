import { cohortCookie } from '../../gateway/test/helpers/cohort.ts';
import { sample } from '../../gateway/test/helpers/routes.ts';
import { LOAD_PATHS, named, type FaultCase } from '../case.ts';
import { BAD_PLANS } from '../corpora/badPlans.ts';
import { startLoad } from '../load.ts';
import { eventually, startStand, total } from '../stand.ts';

/** The thoughts share of each valid plan, in turn: no two in a row alike, so each one is a change. */
const SHARES = [100, 30, 70, 10, 90, 50, 0, 100, 25, 75, 5, 95, 40, 60, 20, 80, 35, 65, 15, 45];
const APPLIED_WITHIN_MS = 5_000;

/**
 * routes.yaml rewritten 40 times while clients load the gateway: a valid plan (new shares), then
 * an invalid one from the bad-plan corpus, twenty times. Each valid one must be applied, each
 * invalid one rejected with the running plan kept, and no request may fail meanwhile.
 */
export const reloadsCase: FaultCase = {
  name: 'reloads',
  summary: 'plan reloads under load (20 valid, 20 invalid) → failed requests',
  async run({ clients }) {
    const stand = await startStand({ shares: { users: 0, thoughts: 0 } });
    try {
      const { gateway } = stand;
      const load = startLoad({ baseUrl: gateway.url, paths: LOAD_PATHS, clients, headers: (n, i) => ({ cookie: cohortCookie(`reload-${n}-${i % 50}`) }) });
      const reloads = async (result: string) => total(await gateway.metrics(), 'gateway_config_reloads_total', { result });
      const weight = async () => (await gateway.metrics()).get(sample('gateway_route_weight_ratio', { route: 'thoughts', backend: 'thoughts' }));
      const wrong: string[] = [];
      for (const [i, percent] of SHARES.entries()) {
        gateway.rewrite(stand.planText({ users: percent, thoughts: percent }));
        if (!(await eventually(async () => (await weight()) === percent / 100, APPLIED_WITHIN_MS)))
          wrong.push(`valid plan ${i + 1} (thoughts ${percent} %) not applied within ${APPLIED_WITHIN_MS / 1000} s`);
        const bad = BAD_PLANS[i % BAD_PLANS.length]!;
        const failures = await reloads('failure');
        gateway.rewrite(bad.text);
        if (!(await eventually(async () => (await reloads('failure')) === failures + 1, APPLIED_WITHIN_MS)))
          wrong.push(`invalid plan '${bad.name}' not rejected within ${APPLIED_WITHIN_MS / 1000} s`);
        else if ((await weight()) !== percent / 100) wrong.push(`invalid plan '${bad.name}' changed the running plan`);
      }
      const counts = await load.stop();
      const [success, failure] = [await reloads('success'), await reloads('failure')];
      return {
        tried: counts.tried,
        failed: counts.failed + wrong.length,
        detail: `${counts.tried} requests by ${clients} clients during ${success} applied and ${failure} rejected reloads: ${counts.failed} failed${named([...wrong, ...counts.failures])}`,
      };
    } finally {
      await stand.stop();
    }
  },
};
