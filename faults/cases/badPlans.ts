import { named, type FaultCase } from '../case.ts';
import { BAD_PLANS } from '../corpora/badPlans.ts';
import { eventually, startStand, total } from '../stand.ts';

const REJECTED = 'plan rejected: the running plan stays in force';

/**
 * Every plan of the bad-plan corpus written over the running gateway's routes.yaml, one after
 * the other: each must be rejected (the reload counted as a failure), its log line must name
 * file:line for every problem, and /admin must still be denied after it.
 */
export const badPlansCase: FaultCase = {
  name: 'bad-plans',
  summary: 'a corpus of bad plans written over the running routes.yaml → not rejected with file:line',
  async run() {
    const stand = await startStand({ shares: { users: 10, thoughts: 10 } });
    try {
      const { gateway } = stand;
      const located = new RegExp(`^${gateway.routesFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+(:\\d+)?: `);
      const rejections = () =>
        gateway
          .log()
          .split('\n')
          .slice(0, -1) // the last piece is the line being written, if any
          .filter((line) => line.includes(REJECTED))
          .map((line) => (JSON.parse(line) as { problems: string[] }).problems);
      const wrong: string[] = [];
      for (const plan of BAD_PLANS) {
        const failures = total(await gateway.metrics(), 'gateway_config_reloads_total', { result: 'failure' });
        const logged = rejections().length;
        gateway.rewrite(plan.text);
        const rejected = await eventually(
          async () => total(await gateway.metrics(), 'gateway_config_reloads_total', { result: 'failure' }) === failures + 1 && rejections().length > logged,
          5_000,
        );
        const problems = rejections()[logged] ?? [];
        const admin = await fetch(`${gateway.url}/admin/users/`, { method: 'POST' });
        await admin.arrayBuffer();
        if (!rejected) wrong.push(`'${plan.name}' was not rejected within 5 s`);
        else if (problems.length === 0 || !problems.every((problem) => located.test(problem)))
          wrong.push(`'${plan.name}': a problem without file:line: ${problems.join(' | ')}`);
        else if (admin.status !== 404) wrong.push(`after '${plan.name}', POST /admin/users/ answered ${admin.status}`);
      }
      return {
        tried: BAD_PLANS.length,
        failed: wrong.length,
        detail: `${BAD_PLANS.length} bad plans written over the running plan: ${BAD_PLANS.length - wrong.length} rejected, each problem with file:line, /admin still 404${named(wrong)}`,
      };
    } finally {
      await stand.stop();
    }
  },
};
