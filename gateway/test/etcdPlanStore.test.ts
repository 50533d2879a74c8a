// The etcd plan store on a real etcd v3 server: the whole plan as one value, every write one
// transaction that compares the mod revision it read (and the leader's key) and writes the
// plan with its audit entries (and the removal of the oldest beyond GATEWAY_ETCD_AUDIT_KEEP);
// the watch across a compaction and an outage; 503 while etcd is away, quickly, with nothing written.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEtcd, type EtcdConnection } from '../src/etcd/etcdConnection.ts';
import { etcdSettingsFromEnv } from '../src/etcd/etcdSettings.ts';
import { EtcdPlanStore } from '../src/plan/etcdPlanStore.ts';
import type { PlanRead } from '../src/plan/planStore.ts';
import { splitOf, type SplitPercents } from '../src/plan/splitPercents.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../../tests/support/etcd.ts';
import { eventually } from '../../tests/support/rolloutTraffic.ts';
import { startTcpPartition } from '../../tests/support/tcpPartition.ts';
import { commentedRoutes } from './helpers/opsFixture.ts';

const PLAN = commentedRoutes({ legacy: 'http://127.0.0.1:8001', thoughts: 'http://127.0.0.1:8003', users: 'http://127.0.0.1:8002' });
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const META = { who: 'tester', via: 'cli', reason: 'test', dryRun: false } as const;
const SHIFT = { kind: 'shift', route: 'login', backend: 'users', percent: 5, only: false } as const;

let etcd: ThrowawayEtcd;
const connections: EtcdConnection[] = [];

beforeAll(async () => {
  etcd = await startThrowawayEtcd();
});
afterAll(async () => {
  for (const connection of connections) connection.close();
  await etcd.close();
});

function loginSplit(read: PlanRead): SplitPercents | null {
  const route = read.ok ? read.table.routes.find((r) => r.name === 'login') : undefined;
  return route ? splitOf(route) : null;
}

/** A store on a fresh prefix, with its own connection (as each replica has). */
function storeOn(url = etcd.storeUrl(), env: NodeJS.ProcessEnv = {}): { store: EtcdPlanStore; url: string; connection: EtcdConnection } {
  const connection = connectEtcd(etcdSettingsFromEnv({ ...env, GATEWAY_PLAN_STORE: url })!);
  connections.push(connection);
  return { store: new EtcdPlanStore(connection), url, connection };
}

describe('EtcdPlanStore', () => {
  it('holds no plan until one is pushed; a push is validated, audited as push, and read back with its sha256 as version', async () => {
    const { store } = storeOn();
    expect(await store.read()).toMatchObject({
      ok: false,
      status: 503,
      message: expect.stringContaining('holds no plan yet: push one with gateway plan push FILE'),
    });

    const invalid = await store.push(PLAN.replace('split: { thoughts: 10 }', 'split: { thoughts: 110 }'), 'ci/routes.yaml', META);
    expect(invalid).toMatchObject({ ok: false, status: 400, message: expect.stringContaining('ci/routes.yaml:') });
    expect(await store.read()).toMatchObject({ ok: false, status: 503 });

    const pushed = await store.push(PLAN, 'ci/routes.yaml', META);
    expect(pushed).toMatchObject({ ok: true, applied: true, version: sha256(PLAN) });
    expect(await store.read()).toMatchObject({ ok: true, text: PLAN, version: sha256(PLAN) });
    expect(await store.audit(10)).toEqual([expect.objectContaining({ action: 'push', route: '*', who: 'tester', via: 'cli', version: sha256(PLAN) })]);
  });

  it('a change is one transaction: plan and audit together; a change based on a stale read gets 409 and writes nothing', async () => {
    const url = etcd.storeUrl();
    const { store: one } = storeOn(url);
    const { store: two } = storeOn(url);
    await one.push(PLAN, 'routes.yaml', META);

    const shifted = await one.change(SHIFT, { ...META, expectVersion: sha256(PLAN) });
    expect(shifted).toMatchObject({ ok: true, applied: true });
    expect(loginSplit(await two.read())).toEqual({ users: 5, legacy: 95 });
    expect((await two.audit(10)).map((e) => [e.action, e.route, e.new])).toEqual([
      ['shift', 'login', { users: 5, legacy: 95 }],
      ['push', '*', {}],
    ]);

    // Another replica decided on the old plan: refused, naming both versions; nothing written.
    const stale = await two.change({ ...SHIFT, percent: 50 }, { ...META, expectVersion: sha256(PLAN) });
    expect(stale).toMatchObject({ ok: false, status: 409, message: expect.stringContaining(`expected version ${sha256(PLAN).slice(0, 12)}`) });
    expect(await one.read()).toMatchObject({ ok: true, version: shifted.ok ? shifted.version : '' });
    expect(await one.audit(10)).toHaveLength(2);
  });

  it('two replicas changing at the same moment: exactly one write lands, the other is refused', async () => {
    const url = etcd.storeUrl();
    const { store: one } = storeOn(url);
    const { store: two } = storeOn(url);
    await one.push(PLAN, 'routes.yaml', META);
    const results = await Promise.all([one.change(SHIFT, META), two.change({ ...SHIFT, percent: 7 }, META)]);
    // Without expectVersion each may still land, one after the other; never both on the same revision.
    const audit = await one.audit(10);
    expect(audit.filter((e) => e.action === 'shift')).toHaveLength(results.filter((r) => r.ok && r.applied).length);
    const read = await one.read();
    expect(read.ok && read.version).toBe(audit[0]!.version);
  });

  it("writes with a leadership only while the leader's key has that create revision: a deposed leader gets 409", async () => {
    const { store, connection } = storeOn();
    await store.push(PLAN, 'routes.yaml', META);
    const leaderKey = `${connection.keys.prefix.toString()}rollout/leader-test`;
    await connection.client.put(leaderKey).value('me');
    const kv = (await connection.client.get(leaderKey).exec()).kvs[0]!;
    const leadership = { key: leaderKey, createRevision: kv.create_revision };
    expect(await store.change(SHIFT, { ...META, via: 'rollout', action: 'step', leadership })).toMatchObject({ ok: true, applied: true });

    await connection.client.delete().key(leaderKey);
    const deposed = await store.change({ ...SHIFT, percent: 9 }, { ...META, via: 'rollout', action: 'step', leadership });
    expect(deposed).toMatchObject({ ok: false, status: 409, message: expect.stringContaining('not the rollout leader any more') });
    expect(loginSplit(await store.read())).toEqual({ users: 5, legacy: 95 });
  });

  it('a watch whose revision was compacted while it was cut off starts again from now and re-reads the plan', async () => {
    const partition = await startTcpPartition(etcd.endpoint);
    const prefix = `compaction-${process.pid}`;
    const { store } = storeOn(`etcd://${partition.endpoint}/${prefix}`);
    const { store: writer } = storeOn(etcd.storeUrl(prefix));
    await writer.push(PLAN, 'routes.yaml', META);
    let changes = 0;
    const restarts: string[] = [];
    store.onStatus((status) => restarts.push(status.lastWatchRestart ?? ''));
    const errors: Error[] = [];
    const watch = store.watch(
      () => (changes += 1),
      (error) => errors.push(error),
    );
    try {
      await eventually('the first read after the watch starts', 10_000, () => (changes >= 1 ? true : undefined));
      partition.cut();
      // While this replica is cut off, the plan moves on twice and etcd compacts its history.
      await writer.change(SHIFT, META);
      const latest = await writer.change({ ...SHIFT, percent: 12 }, META);
      etcd.compact();
      partition.heal();
      await eventually('the watch restarted after the compaction and the latest plan read', 15_000, async () => {
        const read = await store.read();
        return restarts.some((why) => why.startsWith('etcd ended the watch')) && read.ok && latest.ok && read.version === latest.version ? true : undefined;
      });
      const seen = changes;
      await writer.change({ ...SHIFT, percent: 13 }, META);
      await eventually('a change after the compaction seen by the new watch', 10_000, () => (changes > seen ? true : undefined));
      expect(errors).toEqual([]);
    } finally {
      watch.stop();
      await partition.close();
    }
  });

  it('the watch sees a change from another replica, and after an outage it re-reads and reports up/down', async () => {
    const url = etcd.storeUrl();
    const { store } = storeOn(url);
    const { store: writer } = storeOn(url);
    await writer.push(PLAN, 'routes.yaml', META);
    let changes = 0;
    const errors: Error[] = [];
    const downs: string[] = [];
    store.onStatus((status) => {
      if (!status.up) downs.push(status.reason ?? '');
    });
    const watch = store.watch(
      () => (changes += 1),
      (error) => errors.push(error),
    );
    try {
      await eventually('the first read after the watch starts', 10_000, () => (changes >= 1 ? true : undefined));
      const before = changes;
      await writer.change(SHIFT, META);
      await eventually('the shift seen by the watch', 10_000, () => (changes > before ? true : undefined));

      // etcd goes away; meanwhile the plan moves on and the history is compacted past the watch.
      await etcd.stop();
      await eventually('the store reported down', 10_000, () => (store.status().up ? undefined : true));
      expect(downs[0]).toContain(`plan store unreachable: http://${etcd.endpoint}`);
      const started = Date.now();
      expect(await writer.change({ ...SHIFT, percent: 6 }, META)).toMatchObject({
        ok: false,
        status: 503,
        message: expect.stringContaining('plan store unreachable'),
      });
      expect(Date.now() - started).toBeLessThan(5_000);
      await etcd.start();
      const restartsBefore = store.status().watchRestarts;
      const changed = await writer.change({ ...SHIFT, percent: 8 }, META);
      expect(changed).toMatchObject({ ok: true, applied: true });
      etcd.compact();
      await eventually('the watch restarted and the plan re-read', 15_000, async () => {
        const read = await store.read();
        return store.status().up && store.status().watchRestarts > restartsBefore && read.ok && changed.ok && read.version === changed.version
          ? true
          : undefined;
      });

      // After a compaction the watch still works: a new change is seen.
      const seen = changes;
      await writer.change({ ...SHIFT, percent: 11 }, META);
      await eventually('a change after the compaction seen by the watch', 10_000, () => (changes > seen ? true : undefined));
      expect(errors).toEqual([]);
    } finally {
      watch.stop();
    }
  });

  describe('audit retention (GATEWAY_ETCD_AUDIT_KEEP)', () => {
    /** How many audit keys etcd holds under the store's prefix, read straight from etcd. */
    const auditKeys = (connection: EtcdConnection) => connection.client.getAll().prefix(`${connection.keys.prefix.toString()}audit/`).count();

    /** Shifts login to each percent in turn, one at a time; the results of those applied. */
    async function shiftEach(store: EtcdPlanStore, percents: readonly number[]): Promise<number[]> {
      const applied: number[] = [];
      for (const percent of percents) {
        const result = await store.change({ ...SHIFT, percent }, META);
        if (result.ok && result.applied) applied.push(percent);
      }
      return applied;
    }

    it('a cap that is not a whole number from 1 is refused, naming the variable', () => {
      for (const keep of ['0', 'all', '1.5'])
        expect(() => etcdSettingsFromEnv({ GATEWAY_PLAN_STORE: etcd.storeUrl(), GATEWAY_ETCD_AUDIT_KEEP: keep })).toThrow(
          `GATEWAY_ETCD_AUDIT_KEEP=${keep} must be a whole number from 1 to 1000000`,
        );
      expect(etcdSettingsFromEnv({ GATEWAY_PLAN_STORE: etcd.storeUrl() })?.auditKeep).toBe(1000);
    });

    it('more writes than the cap: exactly the newest entries are kept, newest first, and etcd holds no more', async () => {
      const { store, connection } = storeOn(etcd.storeUrl(), { GATEWAY_ETCD_AUDIT_KEEP: '5' });
      await store.push(PLAN, 'routes.yaml', META);
      expect(await shiftEach(store, [1, 2, 3, 4, 5, 6, 7, 8, 9])).toHaveLength(9);

      expect((await store.audit(100)).map((e) => e.new.users)).toEqual([9, 8, 7, 6, 5]);
      expect(await auditKeys(connection)).toBe(5);
      const read = await store.read();
      expect((await store.audit(1))[0]!.version).toBe(read.ok ? read.version : 'unreadable');
    });

    it('a write with more entries than the cap keeps all of its own; the next write removes them as the oldest', async () => {
      const { store, connection } = storeOn(etcd.storeUrl(), { GATEWAY_ETCD_AUDIT_KEEP: '1' });
      await store.push(PLAN, 'routes.yaml', META);
      // The thoughts group moves together: one change, two entries.
      expect(await store.change({ kind: 'shift', route: 'thoughts', backend: 'thoughts', percent: 30, only: false }, META)).toMatchObject({ applied: true });
      expect((await store.audit(10)).map((e) => [e.route, e.new.thoughts])).toEqual([
        ['thoughts', 30],
        ['my-thoughts', 30],
      ]);
      await store.change(SHIFT, META);
      expect((await store.audit(10)).map((e) => [e.route, e.new.users])).toEqual([['login', 5]]);
      expect(await auditKeys(connection)).toBe(1);
    });

    it('two replicas writing at once lose no entry below the cap, and keep exactly the newest at the cap', async () => {
      // The second replica reaches etcd through another address, as another machine would: its
      // writes are not queued behind the first's in this process, so the two race in etcd.
      const proxy = await startTcpPartition(etcd.endpoint);
      try {
        for (const keep of [100, 6]) {
          const prefix = `audit-race-${keep}-${process.pid}`;
          const env = { GATEWAY_ETCD_AUDIT_KEEP: String(keep) };
          const { store: one, connection } = storeOn(etcd.storeUrl(prefix), env);
          const { store: two } = storeOn(`etcd://${proxy.endpoint}/${prefix}`, env);
          await one.push(PLAN, 'routes.yaml', META);
          const odd = Array.from({ length: 15 }, (_, i) => 2 * i + 1);
          const [byOne, byTwo] = await Promise.all([
            shiftEach(one, odd),
            shiftEach(
              two,
              odd.map((p) => p + 1),
            ),
          ]);
          const applied = byOne.length + byTwo.length;

          // Every percent is written once at most, so the entries chain: each one's old split is
          // the next older one's new split, and the newest is what the store holds.
          const entries = await two.audit(1000);
          expect(entries).toHaveLength(Math.min(keep, applied + 1));
          expect(await auditKeys(connection)).toBe(entries.length);
          const read = await one.read();
          expect(entries[0]!.version).toBe(read.ok ? read.version : 'unreadable');
          const shifts = entries.filter((e) => e.action === 'shift');
          for (const [i, entry] of shifts.slice(0, -1).entries()) expect(entry.old).toEqual(shifts[i + 1]!.new);
          const shifted = shifts.map((e) => e.new.users!);
          if (keep > applied) expect(shifted.sort((a, b) => a - b)).toEqual([...byOne, ...byTwo].sort((a, b) => a - b));
        }
      } finally {
        await proxy.close();
      }
    });
  });
});
