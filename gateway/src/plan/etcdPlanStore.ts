import type { IKeyValue, IRequestOp, Watcher } from 'etcd3';
import type { UrlOverride } from '../config/validateBackends.ts';
import { ETCD_KEYS, type EtcdConnection } from '../etcd/etcdConnection.ts';
import { AuditedPlanStore, versionOf, type CommitRefusal, type Loaded } from './auditedPlanStore.ts';
import { parseAuditEntries, type AuditEntry, type RecentAudit } from './auditLog.ts';
import type { ChangeMeta } from './planStore.ts';

/** How soon a watch that etcd ended (a compaction, a cancel) is started again when etcd does not answer. */
const RESTART_MS = 300;
/**
 * The most audit entries one write removes: a store far over GATEWAY_ETCD_AUDIT_KEEP (written
 * before the cap, or the setting lowered) is brought down over several writes, each reading a
 * bounded list of keys (gRPC answers over 4 MiB are refused).
 */
const TRIM_BATCH = 10_000;

/**
 * The plan in etcd v3 (GATEWAY_PLAN_STORE=etcd://…): the whole text is ONE value at
 * `/<prefix>/plan`, so a change is never half-applied. A write is one transaction: "the plan's
 * mod revision is still the one read (and the rollout leader's key still has its create
 * revision)" then the new text plus its audit entries under `/<prefix>/audit/`, and the removal
 * of the oldest entries beyond GATEWAY_ETCD_AUDIT_KEEP; else nothing. Every call is bounded (etcdConnection.ts), so with etcd away a write answers 503 in seconds.
 */
export class EtcdPlanStore extends AuditedPlanStore<string> {
  readonly location: string;
  readonly auditLocation: string;
  readonly remote = true;
  protected readonly planPath: string;
  protected readonly noun = 'the plan store';
  protected readonly missing = 'it holds no plan yet: push one with gateway plan push FILE';
  private readonly planKey: string;
  private readonly auditPrefix: string;

  constructor(
    private readonly etcd: EtcdConnection,
    urlOverride?: UrlOverride,
  ) {
    super(urlOverride);
    this.location = etcd.settings.display;
    this.planPath = `${this.location.replace(/\/$/, '')}/${ETCD_KEYS.plan}`;
    this.auditLocation = `${this.location.replace(/\/$/, '')}/${ETCD_KEYS.audit}`;
    // Absolute keys: a transaction also compares the leader's key, which is outside the prefix's namespace API.
    const prefix = etcd.keys.prefix.toString('utf8');
    this.planKey = `${prefix}${ETCD_KEYS.plan}`;
    this.auditPrefix = `${prefix}${ETCD_KEYS.audit}`;
  }

  /** The basis is the plan key's mod revision ('0': no plan yet). */
  protected async load(): Promise<Loaded<string>> {
    try {
      const answer = await this.etcd.client.get(this.planKey).exec();
      this.reportUp(true);
      const kv = answer.kvs[0];
      return { ok: true, text: kv ? kv.value.toString('utf8') : null, basis: kv ? kv.mod_revision : '0' };
    } catch (error) {
      return { ok: false, reason: this.unreachable(error as Error) };
    }
  }

  protected async commit(text: string, entries: readonly AuditEntry[], basis: string, meta: ChangeMeta): Promise<CommitRefusal | null> {
    const { client } = this.etcd;
    const leadership = meta.leadership;
    // Only one change can succeed on top of `basis`, so its audit keys are unique and in order.
    const auditKey = (n: number) => `${this.auditPrefix}${basis.padStart(20, '0')}-${String(n).padStart(4, '0')}`;
    let txn = client.if(this.planKey, 'Mod', '==', basis);
    if (leadership) txn = txn.and(leadership.key, 'Create', '==', leadership.createRevision);
    let answer;
    try {
      const trim = await this.oldestBeyondCap(entries.length);
      answer = await txn
        .then(client.put(this.planKey).value(text), ...entries.map((entry, n) => client.put(auditKey(n)).value(JSON.stringify(entry))), ...(trim ? [trim] : []))
        .else(client.get(this.planKey), ...(leadership ? [client.get(leadership.key)] : []))
        .commit();
    } catch (error) {
      return { status: 503, message: `${this.unreachable(error as Error)}; nothing was written` };
    }
    this.reportUp(true);
    if (answer.succeeded) return null;
    const [plan, leader] = answer.responses.map((response) => response.response_range.kvs[0] as IKeyValue | undefined);
    if (leadership && leader?.create_revision !== leadership.createRevision) {
      return {
        status: 409,
        message: `not the rollout leader any more (its election key ${leadership.key} is gone or was taken again); nothing was written`,
      };
    }
    return { movedTo: plan ? versionOf(plan.value.toString('utf8')) : '' };
  }

  /**
   * The removal of the oldest audit entries that `adding` new ones push beyond the cap, or null
   * while there is room. It is read after the plan was read at the write's basis, and the audit
   * keys change only in a transaction that moves the plan: so the transaction that still finds
   * the plan at its basis finds these very keys, and removes exactly the oldest ones — never a
   * concurrent writer's entry (that writer moved the plan: this transaction fails whole), never
   * its own (new keys sort after every existing one).
   */
  private async oldestBeyondCap(adding: number): Promise<IRequestOp | null> {
    const { client, settings } = this.etcd;
    const over = (await client.getAll().prefix(this.auditPrefix).count()) + adding - settings.auditKeep;
    if (over <= 0) return null;
    const oldest = await client.getAll().prefix(this.auditPrefix).sort('Key', 'Ascend').limit(Math.min(over, TRIM_BATCH)).keys();
    const last = oldest.at(-1);
    // Up to and including the last of them (a range's end is exclusive). The operation, not the
    // builder: a builder is a thenable, and awaiting it would run the removal on its own.
    return last === undefined
      ? null
      : client
          .delete()
          .inRange({ start: this.auditPrefix, end: `${last}\0` })
          .op();
  }

  /**
   * Watches the plan key. etcd3 resumes a watch after a reconnect but not after its revision was
   * compacted (it ends the watch with an error): then a new watch starts from now. After every
   * (re)start the key is read again (onChange), so nothing missed meanwhile stays missed.
   */
  watch(onChange: () => void, onError: (error: Error) => void): { stop(): void } {
    // Losing the watch is recovered from here (counted in status().watchRestarts); onError hears only of a watch that cannot be created.
    let stopped = false;
    let current: Watcher | null = null;
    let retry: NodeJS.Timeout | null = null;
    const start = (restart: string | null) => {
      this.etcd.client
        .watch()
        .key(this.planKey)
        .create()
        .then((watcher) => {
          if (stopped) return void watcher.cancel();
          current = watcher;
          let lost = false;
          watcher.on('put', onChange).on('delete', onChange);
          watcher.on('disconnected', (error: Error) => {
            lost = true;
            this.unreachable(error);
          });
          watcher.on('connected', () => {
            if (!lost) return;
            lost = false;
            this.reportUp(true);
            this.watchRestarted('reconnected after losing etcd');
            onChange();
          });
          watcher.on('error', (error: Error) => {
            // etcd ended this watch (the library has dropped it already; cancelling it again would
            // send etcd a cancel for an id the library no longer knows, and its answer throws).
            current = null;
            if (!stopped) start(`etcd ended the watch (${error.message}): its revision was compacted, or etcd cancelled it`);
          });
          if (restart !== null) this.watchRestarted(restart);
          this.reportUp(true);
          onChange();
        })
        .catch((error: Error) => {
          onError(error);
          if (!stopped) retry = setTimeout(() => start(`the watch could not be created: ${error.message}`), RESTART_MS);
        });
    };
    start(null);
    return {
      stop: () => {
        stopped = true;
        if (retry !== null) clearTimeout(retry);
        void current?.cancel().catch(() => undefined); // the connection may be gone already: nothing left to cancel
      },
    };
  }

  async auditReport(limit: number): Promise<RecentAudit> {
    let kvs: IKeyValue[];
    try {
      kvs = (await this.etcd.client.getAll().prefix(this.auditPrefix).sort('Key', 'Descend').limit(limit).exec()).kvs;
    } catch (error) {
      throw new Error(this.unreachable(error as Error), { cause: error });
    }
    return parseAuditEntries(kvs.map((kv) => kv.value.toString('utf8')));
  }

  close(): void {
    // The connection is its opener's (the fleet and the rollout share it).
  }

  /** Marks the store down and says so, naming the endpoints. */
  private unreachable(error: Error): string {
    const reason = `plan store unreachable: ${this.etcd.settings.hosts.join(', ')} (${error.message})`;
    this.reportUp(false, reason);
    return reason;
  }
}
