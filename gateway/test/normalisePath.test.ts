import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normaliseTarget } from '../src/match/normalisePath.ts';
import { sendRaw } from './helpers/http.ts';
import { startShippedPlan, type ShippedPlan } from './helpers/shippedPlan.ts';
import { ADMIN_BYPASS_METHODS, ADMIN_BYPASS_TARGETS as VARIANTS, reachesAdmin } from '../../faults/corpora/adminBypass.ts';

let plan: ShippedPlan;

beforeAll(async () => {
  plan = await startShippedPlan();
});

afterAll(async () => {
  await plan.stop();
});

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

  it.each(ADMIN_BYPASS_METHODS)('%s /admin/users/ and //ADMIN/users → 404, reaching no back end', async (method) => {
    const before = plan.reached();
    for (const target of ['/admin/users/', '//ADMIN/users']) expect((await sendRaw(plan.gateway.port, target, '', method)).status, target).toBe(404);
    expect(plan.reached()).toBe(before);
  });

  it('no back end ever received a request for /admin', () => {
    const seen = [...plan.legacy.seen, ...plan.users.seen, ...plan.thoughts.seen].map((s) => s.url);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter(reachesAdmin)).toEqual([]);
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
