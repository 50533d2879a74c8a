import { ETCD_KEYS, type EtcdConnection } from '../etcd/etcdConnection.ts';
import { parseProgress, progressText, type Leadership, type ProgressStore, type RouteProgress } from './progress.ts';

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
}
