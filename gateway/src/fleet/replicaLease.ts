import type { Lease, Namespace } from 'etcd3';
import type { Logger } from 'pino';

/**
 * The keys one replica owns in etcd, all bound to one lease of its own: they vanish within
 * the TTL once the replica stops renewing it (killed, frozen, cut off), and are revoked at
 * once on a graceful close. What the replica wants them to hold is kept here and written
 * until etcd has it: a write that fails (etcd away) is retried every second, and a lease
 * that is lost (etcd restarted after the TTL, a long pause) is replaced by a new one with
 * every key written again, so a replica never stays missing from the fleet while it runs.
 */
export class ReplicaLease {
  private lease: Lease | null = null;
  private readonly wanted = new Map<string, string>();
  /** What the current lease's keys hold in etcd (cleared with each new lease). */
  private readonly written = new Map<string, string>();
  private flushing: Promise<void> | null = null;
  private readonly retry: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly keys: Namespace,
    private readonly ttlSeconds: number,
    private readonly logger: Logger,
  ) {
    this.retry = setInterval(() => void this.flush(), 1_000);
    this.retry.unref();
  }

  /** Sets `key` to `value` under the lease (written now, and again on a new lease). */
  set(key: string, value: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.wanted.set(key, value);
    return this.flush();
  }

  /** Writes whatever etcd does not hold yet; one flush at a time (the next one picks up what changed meanwhile). */
  flush(): Promise<void> {
    this.flushing ??= this.writePending().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /** Revokes the lease: every key of the replica is gone from etcd at once. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.retry);
    await this.flushing;
    const lease = this.lease;
    this.lease = null;
    await lease?.revoke({ deadline: Date.now() + 2_000 }).catch((error: Error) => {
      this.logger.warn({ err: error }, 'revoking the fleet lease failed: the registration expires with its TTL');
    });
  }

  private async writePending(): Promise<void> {
    if (this.closed) return;
    const lease = this.currentLease();
    for (const [key, value] of this.wanted) {
      if (this.written.get(key) === value) continue;
      try {
        await lease.put(key).value(value);
      } catch (error) {
        this.logger.debug({ err: error, key }, 'fleet key not written (retried within a second)');
        return;
      }
      if (lease !== this.lease) return; // lost meanwhile: the new lease writes everything again
      this.written.set(key, value);
    }
  }

  private currentLease(): Lease {
    if (this.lease) return this.lease;
    const lease = this.keys.lease(this.ttlSeconds);
    this.lease = lease;
    this.written.clear();
    lease.on('lost', (error: Error) => {
      if (this.lease !== lease || this.closed) return;
      this.lease = null;
      this.logger.warn({ err: error.message }, 'fleet lease lost (etcd unreachable beyond the TTL, or restarted): registering again');
    });
    return lease;
  }
}
