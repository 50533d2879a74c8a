// The pure pieces behind the ops tools: the diff, the sliding traffic window, the recent
// clients' sample and percent parsing.
import { describe, expect, it } from 'vitest';
import { bucketOf } from '../src/core/bucket.ts';
import { RecentClients } from '../src/observe/recentClients.ts';
import { summariseTraffic, TrafficWindow } from '../src/observe/trafficWindow.ts';
import { fileDiff } from '../src/plan/fileDiff.ts';
import { parsePercent } from '../src/plan/splitPercents.ts';

describe('fileDiff', () => {
  const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);

  it('prints hunks with 3 lines of context, merging close changes and splitting far ones', () => {
    const after = [...lines];
    after[2] = 'LINE 3';
    after[5] = 'LINE 6';
    after[17] = 'LINE 18';
    expect(fileDiff(`${lines.join('\n')}\n`, `${after.join('\n')}\n`, 'f.yaml')).toBe(
      [
        '--- f.yaml',
        '+++ f.yaml (after)',
        '@@ -1,9 +1,9 @@',
        ' line 1',
        ' line 2',
        '-line 3',
        '+LINE 3',
        ' line 4',
        ' line 5',
        '-line 6',
        '+LINE 6',
        ' line 7',
        ' line 8',
        ' line 9',
        '@@ -15,6 +15,6 @@',
        ' line 15',
        ' line 16',
        ' line 17',
        '-line 18',
        '+LINE 18',
        ' line 19',
        ' line 20',
        '',
      ].join('\n'),
    );
  });

  it('shows an inserted line and is empty for equal texts', () => {
    expect(fileDiff('a\nb\n', 'a\nb\nc\n', 'x')).toBe('--- x\n+++ x (after)\n@@ -1,2 +1,3 @@\n a\n b\n+c\n');
    expect(fileDiff('a\n', 'a\n', 'x')).toBe('');
  });

  it('shows a hunk for a change only in the final newline, both ways', () => {
    expect(fileDiff('a\nb\n', 'a\nb', 'x')).toBe('--- x\n+++ x (after)\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n');
    expect(fileDiff('a\nb', 'a\nb\n', 'x')).toBe('--- x\n+++ x (after)\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n');
  });
});

describe('TrafficWindow', () => {
  it('counts requests, shares, 5xx and p95 per route and backend, and forgets what left the window', () => {
    let now = 1_000_000;
    const window = new TrafficWindow(60_000, 10_000, () => now);
    for (let i = 0; i < 30; i++) window.record('thoughts', 'thoughts', i < 3 ? 500 : 200, 10);
    for (let i = 0; i < 70; i++) window.record('thoughts', 'legacy', 200, i < 67 ? 2 : 400);
    window.record('admin', 'none', 404, 0.1);
    now += 30_000;
    const snapshot = window.snapshot();
    expect(snapshot.seconds).toBe(30);
    const thoughts = snapshot.routes.find((r) => r.route === 'thoughts')!;
    expect(thoughts.requests).toBe(100);
    const byName = Object.fromEntries(thoughts.backends.map((b) => [b.backend, b]));
    expect(byName.thoughts).toMatchObject({ requests: 30, share: 0.3, errorRate: 0.1 });
    expect(byName.legacy).toMatchObject({ requests: 70, share: 0.7, errorRate: 0 });
    expect(byName.thoughts!.requestsPerSecond).toBe(1);
    // 95 % of legacy's requests took 2 ms (bucket bound within 25 % above), the slowest 3 are above the 95th percentile.
    expect(byName.legacy!.p95Ms).toBeGreaterThanOrEqual(2);
    expect(byName.legacy!.p95Ms).toBeLessThan(2.5);
    expect(snapshot.routes.find((r) => r.route === 'admin')!.backends[0]).toMatchObject({ backend: 'none', share: null });

    now += 45_000; // the first slot is now older than the window
    window.record('thoughts', 'thoughts', 200, 10);
    expect(window.snapshot().routes.find((r) => r.route === 'thoughts')!.backends).toEqual([
      expect.objectContaining({ backend: 'thoughts', requests: 1, share: 1 }),
    ]);
  });
});

describe("summariseTraffic (a fleet's windows)", () => {
  it("sums the counts of several windows: shares and p95 from the sums, each window's rate over its own time", () => {
    let now = 1_000_000;
    const older = new TrafficWindow(60_000, 10_000, () => now);
    now += 20_000;
    const younger = new TrafficWindow(60_000, 10_000, () => now);
    for (let i = 0; i < 40; i++) older.record('thoughts', 'legacy', 200, 2);
    for (let i = 0; i < 10; i++) younger.record('thoughts', 'thoughts', i < 5 ? 503 : 200, 400);
    now += 20_000; // older has run 40 s, younger 20 s
    const fleet = summariseTraffic([older.counts(), younger.counts()]);
    expect(fleet.seconds).toBe(40);
    const thoughts = fleet.routes.find((r) => r.route === 'thoughts')!;
    expect(thoughts.requests).toBe(50);
    expect(thoughts.requestsPerSecond).toBe(40 / 40 + 10 / 20);
    const byName = Object.fromEntries(thoughts.backends.map((b) => [b.backend, b]));
    expect(byName.legacy).toMatchObject({ requests: 40, share: 0.8, errorRate: 0 });
    expect(byName.thoughts).toMatchObject({ requests: 10, share: 0.2, errorRate: 0.5 });
    expect(byName.thoughts!.p95Ms).toBeGreaterThanOrEqual(400);
    // One window alone is what its snapshot says.
    expect(summariseTraffic([older.counts()])).toEqual(older.snapshot());
  });
});

describe('RecentClients', () => {
  it('keeps one bucket per distinct client within the window, bounded, least recently seen dropped first', () => {
    let now = 0;
    const clients = new RecentClients(60_000, 3, () => now);
    for (const key of ['a', 'b', 'a', 'c']) clients.record(7, key);
    expect(clients.buckets(7)).toEqual(['b', 'a', 'c'].map((k) => bucketOf(7, k)));
    clients.record(7, 'd'); // over the cap: b (least recently seen) goes
    expect(clients.buckets(7)).toEqual(['a', 'c', 'd'].map((k) => bucketOf(7, k)));
    expect(clients.buckets(8)).toEqual([]);
    now = 30_000;
    clients.record(7, 'e');
    now = 70_000;
    expect(clients.buckets(7)).toEqual([bucketOf(7, 'e')]);
  });
});

describe('parsePercent', () => {
  it.each([
    ['25', 25],
    ['25%', 25],
    [' 0.5 ', 0.5],
    [100, 100],
    ['0', 0],
  ])('accepts %j', (input, value) => {
    expect(parsePercent(input, 'x')).toEqual({ ok: true, value });
  });

  it.each([
    ['-1', 'x: -1 is negative'],
    ['100.01', 'x: 100.01 is more than 100 percent'],
    ['1.005', 'x: 1.005 has more than two decimals'],
    ['1e2', "x: '1e2' is not a number"],
    ['', "x: '' is not a number"],
    [null, 'x must be a number of percent from 0 to 100'],
  ])('refuses %j', (input, message) => {
    const parsed = parsePercent(input, 'x');
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(message);
  });
});
