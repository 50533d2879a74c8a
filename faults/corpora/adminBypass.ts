/**
 * Requests that try to reach /admin/** through the shipped routes.yaml: percent-encodings,
 * dot segments, doubled and back slashes, matrix parameters, absolute-form targets, each sent
 * with every method. One copy, shared by gateway/test/normalisePath.test.ts and `npm run faults`.
 */

/**
 * A request target as written on the request line (sent raw: node:http would refuse or rewrite
 * some of them), and what the gateway must answer on the shipped plan: 404 (denied by the admin
 * route), 400 (cannot be normalised safely), or 'site' (a different path, forwarded to legacy —
 * it is not /admin for the back end either).
 */
export type AdminBypassOutcome = 404 | 400 | 'site';

export const ADMIN_BYPASS_TARGETS: readonly (readonly [target: string, outcome: AdminBypassOutcome])[] = [
  ['/admin/users/', 404],
  ['/admin', 404],
  ['/admin/', 404],
  ['/ADMIN', 404],
  ['/Admin/users/', 404],
  ['/aDmIn/thoughts/1/', 404],
  ['//admin/users/', 404],
  ['///admin///users/', 404],
  ['//ADMIN//users', 404],
  ['/./admin/users/', 404],
  ['/./././admin', 404],
  ['/api/../admin/users/', 404],
  ['/api/thoughts/../../admin/', 404],
  ['/api/thoughts/../../../../admin/', 404],
  ['/../admin/', 404],
  ['/%2e%2e/admin', 404],
  ['/%2E%2E/admin/users/', 404],
  ['/api/%2e%2e/admin/users/', 404],
  ['/api/.%2e/admin/', 404],
  ['/api/%2e./admin/', 404],
  ['/%2e/admin/', 404],
  ['/%61dmin/users/', 404],
  ['/%41DMIN/', 404],
  ['/a%64min', 404],
  ['/admin/%2e%2e/admin/users/', 404],
  ['/a/../%61dmin/', 404],
  ['http://gateway.test/admin/users/', 404],
  ['HTTP://gateway.test//Admin', 404],
  ['/admin%2Fusers/', 400],
  ['/admin%2fusers', 400],
  ['/%2Fadmin/', 400],
  ['/..%2fadmin', 400],
  ['/api/login/..%2F..%2Fadmin/', 400],
  ['/admin;x=y', 400],
  ['/admin;/users/', 400],
  ['/;/admin/', 400],
  ['/api;/../admin/', 400],
  ['\\admin', 400],
  ['/\\admin/', 400],
  ['/%5cadmin/', 400],
  ['/%5Cadmin', 400],
  ['/admin%00/', 400],
  ['/%00/../admin', 400],
  ['/admin%09', 400],
  ['/%C0%AE%C0%AE/admin', 400],
  ['/%C0%AFadmin', 400],
  ['/%E0%80%AE%E0%80%AE/admin/', 400],
  ['/%ff/../admin/', 400],
  ['/%zz/../admin', 400],
  ['*', 400],
  ['/admin./', 'site'],
  ['/admin%20/', 'site'],
  ['/%2561dmin/', 'site'],
  ['/admin/..', 'site'],
];

/**
 * Every method each target is sent with: a deny route limited to some methods would let the
 * others through (a plan doing so is refused, see badPlans.ts). CONNECT is not in the list:
 * Node hands it to a separate event the gateway does not serve, so it never reaches a route.
 */
export const ADMIN_BYPASS_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const;

/** Whether a back end received `url` as /admin: its first path segment, decoded once (as Express does), in any letter case. */
export function reachesAdmin(url: string): boolean {
  const path = url.split('?')[0]!;
  let first = path.split('/')[1] ?? '';
  try {
    first = decodeURIComponent(first);
  } catch {
    // Not decodable: Express would not route it as /admin either; compared as sent.
  }
  return first.toLowerCase() === 'admin';
}
