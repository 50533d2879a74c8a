import { startBackend, type TestBackend } from './backends.ts';
import { startTestGateway, type TestGateway } from './gateway.ts';
import { send } from './http.ts';
import type { GatewayOptions } from '../../src/gateway.ts';
import { cohortCookie } from './cohort.ts';

/**
 * A commented routes file in the layouts people write: aligned flow maps, trailing
 * comments, a block-style split, an empty split, a group of two routes. Every ops edit must
 * leave all of it as it was except the numbers it changes.
 */
export function commentedRoutes(urls: { legacy: string; thoughts: string; users: string }): string {
  return `# Migration plan for the ops tests: comments and layout must survive every edit.
backends:
  legacy:   { url: ${urls.legacy}, legacy: true }   # the monolith
  thoughts: { url: ${urls.thoughts} }
  users:    { url: ${urls.users} }

cohort:
  keys: [cookie:gw_cohort]   # first present wins
  salt: ops-test

routes:
  # never public
  - name: admin
    match: { path: /admin/** }
    deny: 404

  # the thoughts group: both routes move together
  - name: my-thoughts
    match: { path: /api/me/thoughts/** }
    group: thoughts
    split: { thoughts: 10 }   # canary
    fallback: legacy

  - name: thoughts
    match: { path: /api/thoughts/** }
    group: thoughts
    split:
      thoughts: 10    # block style, with a comment
      legacy: 90
    fallback: legacy

  - name: login
    match: { path: /api/login }
    split: {}            # not started

  # everything else
  - name: site
    match: { path: /** }
    split: { legacy: 100 }

protect: [/admin/**]   # these test back ends serve no /metrics
`;
}

export interface OpsSystem {
  gateway: TestGateway;
  backends: { legacy: TestBackend; thoughts: TestBackend; users: TestBackend };
  stop(): Promise<void>;
}

/** Three real back ends and a gateway running `commentedRoutes` from a temporary directory. */
export async function startOpsSystem(options: Partial<GatewayOptions> = {}, routes: typeof commentedRoutes = commentedRoutes): Promise<OpsSystem> {
  const backends = { legacy: await startBackend('legacy'), thoughts: await startBackend('thoughts'), users: await startBackend('users') };
  const gateway = await startTestGateway(routes({ legacy: backends.legacy.url, thoughts: backends.thoughts.url, users: backends.users.url }), options);
  return {
    gateway,
    backends,
    async stop() {
      await gateway.stop();
      await Promise.all(Object.values(backends).map((b) => b.close()));
    },
  };
}

/** `count` distinct clients (gw_cohort cookies `<prefix>-0` …) each sending one GET; returns who answered, per client. */
export async function sendAsClients(baseUrl: string, path: string, count: number, prefix = 'client'): Promise<Map<string, string>> {
  const answeredBy = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const key = `${prefix}-${i}`;
    const reply = await send(`${baseUrl}${path}`, { headers: { cookie: cohortCookie(key) } });
    answeredBy.set(key, String(reply.headers['x-backend']));
  }
  return answeredBy;
}
