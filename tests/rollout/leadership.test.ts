// The fleet's rollout election and its fenced writes on a real etcd: the oldest candidate leads;
// a leader whose lease is gone (what a frozen or cut-off leader's lease does after its TTL:
// revoked here, so the moment is the test's) is deposed, another leads, and every progress
// write the deposed one still makes with its old leadership is refused with nothing written;
// a leader that resigns (a graceful stop) hands over at once.
import { execFileSync } from 'node:child_process';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ETCD_KEYS } from '../../gateway/src/etcd/etcdConnection.ts';
import { EtcdProgress } from '../../gateway/src/rollout/etcdProgress.ts';
import { RolloutElection } from '../../gateway/src/rollout/leaderElection.ts';
import type { Leadership, RouteProgress } from '../../gateway/src/rollout/progress.ts';
import { startThrowawayEtcd, type ThrowawayEtcd } from '../support/etcd.ts';
import { eventually } from '../support/rolloutTraffic.ts';

let etcd: ThrowawayEtcd;
const elections: RolloutElection[] = [];

beforeAll(async () => {
  etcd = await startThrowawayEtcd();
});
afterAll(async () => {
  for (const election of elections) await election.close();
  await etcd?.close();
});

/** A candidate on a connection of its own, with what happened to it so far. */
function candidate(storeUrl: string, replica: string) {
  const seen = { elected: [] as Leadership[], lost: [] as string[] };
  const connection = etcd.connect(storeUrl);
  const election = new RolloutElection(
    connection,
    { replica, adminUrl: `http://${replica}.example:9901` },
    5,
    { elected: (leadership) => seen.elected.push(leadership), lost: (why) => seen.lost.push(why) },
    pino({ level: 'silent' }),
  );
  elections.push(election);
  election.start();
  return { election, seen, connection, progress: new EtcdProgress(connection) };
}

/** A progress value that names who wrote it. */
const progressBy = (who: string): Record<string, RouteProgress> => ({
  thoughts: {
    block: who,
    backend: 'thoughts',
    group: 'thoughts',
    state: { status: 'progressing', stepIndex: 0, percent: 5, failures: 0 },
    pending: null,
    lastCheck: null,
    events: [],
  },
});

const ctl = (...args: string[]) =>
  execFileSync('etcdctl', [`--endpoints=${etcd.endpoint}`, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });

describe('the rollout election and its fenced writes', () => {
  it('a deposed leader: another candidate leads, and its writes with the old leadership are refused, nothing written', async () => {
    const store = etcd.storeUrl();
    const a = candidate(store, 'replica-a');
    const first = await eventually('replica-a elected', 10_000, () => a.seen.elected[0]);
    const b = candidate(store, 'replica-b');
    expect(await a.election.leader()).toEqual({ replica: 'replica-a', adminUrl: 'http://replica-a.example:9901' });
    await a.progress.write(progressBy('a'), first);
    expect(await b.progress.read()).toEqual(progressBy('a'));
    expect(b.seen.elected).toEqual([]); // a follower never leads while the leader lives
    await expect(b.progress.write(progressBy('b'), null)).rejects.toThrow(/written by the rollout leader only/);

    // replica-a's lease ends as it would after its TTL when frozen (SIGSTOP) or cut off.
    ctl('lease', 'revoke', BigInt(first.key.slice(first.key.lastIndexOf('/') + 1)).toString(16));
    const second = await eventually('replica-b elected', 10_000, () => b.seen.elected[0]);
    expect(await b.election.leader()).toMatchObject({ replica: 'replica-b' });
    await expect(a.progress.write(progressBy('a again'), first)).rejects.toThrow(/not the rollout leader any more/);
    expect(await a.progress.read()).toEqual(progressBy('a')); // nothing written by the deposed leader
    expect(await a.election.standing(first)).toBe('deposed');
    await eventually('replica-a told it lost', 10_000, () => a.seen.lost[0]);
    await b.progress.write(progressBy('b'), second);
    expect(await a.progress.read()).toEqual(progressBy('b'));
    expect(await b.election.standing(second)).toBe('leading');

    // replica-a campaigns again and waits its turn; replica-b resigns (a graceful stop): replica-a leads at once.
    const resigned = Date.now();
    await b.election.close();
    const third = await eventually('replica-a elected again', 5_000, () => a.seen.elected[1]);
    expect(Date.now() - resigned).toBeLessThan(5_000); // well inside the 5 s TTL: the handover did not wait for it
    expect(third.key).not.toBe(first.key);
    await expect(b.progress.write(progressBy('b after'), second)).rejects.toThrow(/not the rollout leader any more/);
    expect(await a.progress.read()).toEqual(progressBy('b'));
    expect(Object.keys(await a.connection.keys.getAll().prefix(ETCD_KEYS.progress).keys())).toHaveLength(1);
  });

  it('etcd stopped: the leader cannot confirm its leadership (unreachable: the controller holds), and confirms it again once etcd is back', async () => {
    const store = etcd.storeUrl();
    const a = candidate(store, 'replica-c');
    const leadership = await eventually('replica-c elected', 10_000, () => a.seen.elected[0]);
    await etcd.stop();
    try {
      expect(await a.election.standing(leadership)).toBe('unreachable');
      await expect(a.election.leader()).rejects.toThrow();
    } finally {
      await etcd.start();
    }
    await eventually('confirmed again', 10_000, async () => ((await a.election.standing(leadership)) === 'leading' ? true : undefined));
  });
});
