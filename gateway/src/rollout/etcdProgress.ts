import { ETCD_KEYS, type EtcdConnection } from '../etcd/etcdConnection.ts';
import { parseProgress, progressText, type Deadline, type Leadership, type ProgressStore, type RouteProgress } from './progress.ts';

/** Bound on one read or write: with etcd away the controller holds rather than waits. */
const DEADLINE_MS = 3_000;

/**
 * The rollouts' progress in the fleet's etcd (ETCD_KEYS.progress, one JSON value), so whichever
 * replica leads next resumes every rollout where it stood. Each write is one transaction that
 * also checks the leader's election key (still there, created at the same revision): a
 * deposed leader's write changes nothing.
 */
export class EtcdProgress implements ProgressStore {
  readonly where: string;

  constructor(private readonly etcd: EtcdConnection) {
    this.where = `${ETCD_KEYS.progress} in ${etcd.settings.display}`;
  }

  async read(): Promise<Record<string, RouteProgress>> {
    const text = await this.etcd.keys
      .get(ETCD_KEYS.progress)
      .options({ deadline: Date.now() + DEADLINE_MS })
      .string();
    return parseProgress(text, this.where);
  }

  async write(routes: Readonly<Record<string, RouteProgress>>, leadership: Leadership | null): Promise<void> {
    if (leadership === null) throw new Error('the rollout progress in etcd is written by the rollout leader only');
    const committed = await this.etcd.client
      .if(leadership.key, 'Create', '==', leadership.createRevision)
      .then(this.etcd.keys.put(ETCD_KEYS.progress).value(progressText(routes)))
      .options({ deadline: Date.now() + DEADLINE_MS })
      .commit();
    if (!committed.succeeded) throw new Error('not the rollout leader any more: its election key is gone (another replica leads); nothing written');
  }

  /**
   * A lease granted for `seconds` and never renewed: etcd counts it down on its own clock, so
   * a replica that reads the progress later learns how long is left without comparing its
   * clock with the writer's. etcd gives at least its minimum TTL (about 2 s), and a new etcd
   * leader renews every lease once: the deadline can come later than asked, never earlier.
   */
  async deadline(seconds: number): Promise<Deadline> {
    const granted = await this.etcd.client.leaseClient.leaseGrant({ TTL: Math.ceil(seconds) }, { deadline: Date.now() + DEADLINE_MS });
    return { lease: granted.ID };
  }

  /** etcd answers whole seconds, rounded down, and -1 once the lease is gone: one second is added to anything left, so the answer is never early. */
  async untilDeadline(deadline: Deadline): Promise<number | null> {
    if (!('lease' in deadline)) return null;
    const left = await this.etcd.client.leaseClient.leaseTimeToLive({ ID: deadline.lease }, { deadline: Date.now() + DEADLINE_MS });
    const seconds = Number(left.TTL);
    return seconds < 0 ? 0 : (seconds + 1) * 1000;
  }
}
