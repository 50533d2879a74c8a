/**
 * The Node peer: what a Node team would pick instead of writing a gateway — fastify 5 with
 * @fastify/http-proxy 11 (undici underneath, via @fastify/reply-from), serving the bench's
 * 20 routes and 90/10 split its own way: each route's paths as fastify routes (find-my-way's
 * most-specific-wins instead of first-match; `**` as a prefix with a wildcard, `*` as a
 * parameter), deny routes answered by fastify, and the split by a plain hash of the client's
 * gw_cohort cookie in `replyOptions.getUpstream` (no signature check, no metrics, no log).
 *
 *   node --import tsx bench/fastifyProxy.ts <port> <legacy-origin> <new-origin>
 *
 * Started by the bench as a child process; binds 127.0.0.1 only and exits on SIGTERM.
 */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import { readBenchRoutes } from './routesFile.ts';

interface PlanRoute {
  readonly name: string;
  readonly match: { readonly path: string | readonly string[] };
  readonly split?: Readonly<Record<string, number>>;
  readonly deny?: number;
}

/** What the split reads of a request (fastify's request type differs between HTTP/1 and HTTP/2 servers). */
interface WithCookie {
  readonly headers: { readonly cookie?: string };
}

const [portText, legacyOrigin, newOrigin] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || !legacyOrigin || !newOrigin) {
  console.error('usage: node --import tsx bench/fastifyProxy.ts <port> <legacy-origin> <new-origin>');
  process.exit(2);
}
const origins: Record<string, string> = { legacy: legacyOrigin, new: newOrigin };

const app = Fastify({ logger: false, routerOptions: { ignoreTrailingSlash: true, caseSensitive: false } });
const plan = readBenchRoutes().toJS() as { routes: PlanRoute[] };
const taken = new Set<string>();

for (const route of plan.routes) {
  const patterns = (typeof route.match.path === 'string' ? [route.match.path] : route.match.path).map(fastifyPath).filter((p) => !taken.has(p));
  if (patterns.length === 0) continue; // an earlier route has every path of this one: first match wins
  for (const p of patterns) taken.add(p);
  if (route.deny !== undefined) {
    const status = route.deny;
    for (const url of patterns) app.all(url, (_request, reply) => reply.code(status).send({ message: 'denied' }));
    continue;
  }
  const newPercent = route.split?.new ?? 0;
  const legacy = origins.legacy!;
  const upstream = newPercent <= 0 ? () => legacy : newPercent >= 100 ? () => origins.new! : (request: WithCookie) => splitByCookie(request, newPercent);
  for (const url of patterns) {
    // A prefix route: @fastify/http-proxy answers the prefix and everything under it.
    const prefix = url.endsWith('/*') ? url.slice(0, -2) : url;
    void app.register(proxy, { upstream: '', prefix, rewritePrefix: prefix, replyOptions: { getUpstream: upstream } });
  }
}

/** `/api/thoughts/**` → `/api/thoughts/*`; `/api/users/*` → `/api/users/:p1`. */
function fastifyPath(pattern: string): string {
  let n = 0;
  return pattern
    .split('/')
    .map((part) => (part === '**' ? '*' : part === '*' ? `:p${++n}` : part))
    .join('/');
}

/** The client's side of the split: its gw_cohort cookie hashed (FNV-1a) into 100 buckets. */
function splitByCookie(request: WithCookie, newPercent: number): string {
  const cookie = request.headers.cookie ?? '';
  const at = cookie.indexOf('gw_cohort=');
  if (at === -1) return origins.legacy!;
  const end = cookie.indexOf(';', at);
  const value = cookie.slice(at + 10, end === -1 ? cookie.length : end);
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) hash = Math.imul(hash ^ value.charCodeAt(i), 0x01000193) >>> 0;
  return hash % 100 < newPercent ? origins.new! : origins.legacy!;
}

await app.listen({ port, host: '127.0.0.1' });

process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
