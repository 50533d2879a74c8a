import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseTarget } from '../src/match/normalisePath.ts';
import { sendRaw } from './helpers/http.ts';
import { startShippedPlan, type ShippedPlan } from './helpers/shippedPlan.ts';

/**
 * Request targets that try to reach /admin/** through the shipped routes.yaml, and what the
 * gateway must answer: 404 (denied by the admin route), 400 (cannot be normalised safely),
 * or 'site' (a different path, forwarded to legacy — it is not /admin for the back end either).
 */
const VARIANTS: [target: string, outcome: 404 | 400 | 'site'][] = [
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

let plan: ShippedPlan;

beforeAll(async () => {
  plan = await startShippedPlan();
});

afterAll(async () => {
  await plan.stop();
});

/** The first path segment as a back end sees it (decoded once, as Express does), lower-cased. */
function firstSegment(url: string): string {
  const path = url.split('?')[0]!;
  return decodeURIComponent(path.split('/')[1] ?? '').toLowerCase();
}

describe('path normalisation: no variant reaches /admin/** (shipped routes.yaml, real HTTP)', () => {
  it(`has at least 40 variants`, () => {
    expect(VARIANTS.length).toBeGreaterThanOrEqual(40);
  });

  it.each(VARIANTS)('%s → %s', async (target, outcome) => {
    const before = plan.reached();
    const reply = await sendRaw(plan.gateway.port, target);
    const after = plan.reached();
    if (outcome === 'site') {
      expect(reply.status).toBe(200);
      expect(after).toBe(before + 1);
      expect(JSON.parse(reply.body).backend).toBe('legacy');
    } else {
      expect(reply.status).toBe(outcome);
      expect(JSON.parse(reply.body).message).toEqual(expect.any(String));
      expect(after).toBe(before);
    }
  });

  it('no back end ever received a request for /admin', () => {
    const seen = [...plan.legacy.seen, ...plan.users.seen, ...plan.thoughts.seen].map((s) => s.url);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((url) => firstSegment(url) === 'admin')).toEqual([]);
  });
});

describe('normaliseTarget', () => {
  it.each([
    ['/api/thoughts/', '/api/thoughts/'],
    ['/api//thoughts/./1/', '/api/thoughts/1/'],
    ['/a/b/../c', '/a/c'],
    ['/a/b/..', '/a/'],
    ['/%7Euser/%41', '/~user/A'],
    ['/caf%c3%a9/', '/caf%C3%A9/'],
    ['/a%20b', '/a%20b'],
    ['/100%25', '/100%25'],
    ['/x%3By', '/x%3By'],
    ['/Mixed/Case/', '/Mixed/Case/'],
  ])('%s → %s', (raw, path) => {
    expect(normaliseTarget(raw)).toEqual({ ok: true, path, query: '' });
  });

  it('keeps the query string exactly as sent', () => {
    expect(normaliseTarget('/api/thoughts/?search=%2F..%2Fadmin&x')).toEqual({ ok: true, path: '/api/thoughts/', query: '?search=%2F..%2Fadmin&x' });
  });

  it('is idempotent: a normalised path normalises to itself', () => {
    for (const [target] of VARIANTS) {
      const once = normaliseTarget(target);
      if (once.ok) expect(normaliseTarget(once.path)).toEqual({ ok: true, path: once.path, query: '' });
    }
  });
});
