import { randomUUID } from 'node:crypto';
import { sendRaw } from '../../gateway/test/helpers/http.ts';
import { named, type FaultCase } from '../case.ts';
import { ADMIN_BYPASS_METHODS, ADMIN_BYPASS_TARGETS, reachesAdmin } from '../corpora/adminBypass.ts';
import { eventually, startStand, type BackEndName } from '../stand.ts';

const BACK_ENDS: readonly BackEndName[] = ['legacy', 'users', 'thoughts'];
/** What the stand itself asks before the case starts: each back end's health, the gateway's first answer. */
const PROBES = ['/healthz', '/api/thoughts/1/'];

/**
 * Every target of the admin-bypass corpus with every method, sent raw to the real gateway in
 * front of the real back ends (each its own process with its log on). What reached a back end
 * is read from the back ends' own access logs: no line may be for /admin. The requests the plan
 * forwards as another path ('site' in the corpus) must show up there, or the logs prove nothing.
 */
export const adminBypassCase: FaultCase = {
  name: 'admin-bypass',
  summary: 'the /admin bypass corpus (encodings, dot segments, absolute-form, methods) → requests that reached /admin',
  async run({ repeat }) {
    const stand = await startStand({ shares: { users: 50, thoughts: 50 }, processes: BACK_ENDS });
    try {
      const port = Number(new URL(stand.gateway.url).port);
      const statuses: Record<number, number> = {};
      let tried = 0;
      for (let round = 0; round < repeat; round++)
        for (const method of ADMIN_BYPASS_METHODS)
          for (const [target] of ADMIN_BYPASS_TARGETS) {
            tried++;
            const { status } = await sendRaw(port, target, '', method);
            statuses[status] = (statuses[status] ?? 0) + 1;
          }
      // A request sent to each back end last: once its line is in the log, so is every earlier one.
      const marker = `faults-marker-${randomUUID()}`;
      for (const name of BACK_ENDS) await (await fetch(`${stand.backEnds[name]!.url}/api/thoughts/?search=${marker}`)).arrayBuffer();
      const complete = await eventually(() => BACK_ENDS.every((name) => stand.backEnds[name]!.output().includes(marker)), 5_000);
      const seen = BACK_ENDS.flatMap((name) =>
        stand.backEnds[name]!.output()
          .split('\n')
          .filter((line) => line.startsWith('{'))
          .map((line) => (JSON.parse(line) as { req?: { method: string; url: string } }).req)
          .filter((req) => req !== undefined && !req.url.includes(marker) && !PROBES.includes(req.url))
          .map((req) => ({ backEnd: name, ...req! })),
      );
      const reached = seen.filter((req) => reachesAdmin(req.url)).map((req) => `${req.method} ${req.url} reached ${req.backEnd}`);
      const expectedElsewhere = ADMIN_BYPASS_TARGETS.filter(([, outcome]) => outcome === 'site').length * ADMIN_BYPASS_METHODS.length * repeat;
      const blind = [
        ...(complete ? [] : ["a back end's log never showed the final marker request"]),
        ...(seen.length < expectedElsewhere
          ? [`the back ends logged ${seen.length} requests, fewer than the ${expectedElsewhere} forwarded as other paths`]
          : []),
      ];
      const answers = Object.entries(statuses)
        .map(([status, count]) => `${count} × ${status}`)
        .join(', ');
      return {
        tried,
        failed: reached.length + blind.length,
        detail: `${tried} requests (${ADMIN_BYPASS_TARGETS.length} targets × ${ADMIN_BYPASS_METHODS.length} methods${repeat > 1 ? ` × ${repeat}` : ''}): ${answers}; the back ends logged ${seen.length}, ${reached.length} for /admin${named([...blind, ...reached])}`,
      };
    } finally {
      await stand.stop();
    }
  },
};
