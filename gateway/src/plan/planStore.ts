import type { ConfigProblem } from '../config/problems.ts';
import type { RouteTable } from '../config/routeTable.ts';
import type { AuditAction, AuditEntry, RecentAudit } from './auditLog.ts';
import type { ChangeRequest, Refusal, RouteChange } from './planChange.ts';

/** One validated state of the plan. `version` is the sha256 of `text`: equal text, equal version. */
export interface PlanSnapshot {
  readonly text: string;
  readonly table: RouteTable;
  readonly version: string;
}

/**
 * A plan that cannot be read (503) or does not validate (409): `problems` has every problem, with
 * file:line, and `version` is the version of the invalid text (absent when nothing could be read).
 */
export type PlanRead =
  ({ readonly ok: true } & PlanSnapshot) | ({ readonly ok: false } & Refusal & { readonly problems: readonly ConfigProblem[]; readonly version?: string });

/** Who changes the plan and how; recorded in the audit with every applied change. */
export interface ChangeMeta {
  readonly who: string;
  readonly via: AuditEntry['via'];
  readonly reason: string | null;
  readonly dryRun: boolean;
  /** Default: the request's kind (shift, or panic for both panics; push for a whole plan). */
  readonly action?: AuditAction;
  /** Extra audit fields, e.g. the rollout's gate values. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Compare-and-write: refused with 409 unless the plan is still at this version. */
  readonly expectVersion?: string;
  /**
   * The rollout leader's election key and its create revision: the etcd store writes only while
   * that key still exists with that revision (a deposed leader's write is refused with 409).
   * The file store has no election and ignores it.
   */
  readonly leadership?: { readonly key: string; readonly createRevision: string };
}

export interface ChangeOutcome {
  /** False for a dry run and for a request that changes nothing. */
  readonly applied: boolean;
  readonly changes: readonly RouteChange[];
  readonly notes: readonly string[];
  /** Unified diff of the plan text; empty when nothing changes. */
  readonly diff: string;
  readonly before: RouteTable;
  readonly after: RouteTable;
  /** The plan's version now: the new one when applied, else the one it had. */
  readonly version: string;
}

export type ChangeResult = ({ readonly ok: true } & ChangeOutcome) | ({ readonly ok: false } & Refusal);

/** Whether the store answers; a file store always does. */
export interface StoreStatus {
  readonly up: boolean;
  /** Why it is down (the last error), null while up. */
  readonly reason: string | null;
  /** When `up` last changed (ms since the epoch). */
  readonly since: number;
  /** How often the watch was lost (a reconnect, a watch error, a compaction) and started again. */
  readonly watchRestarts: number;
  /** Why the watch last started again, null if it never did. */
  readonly lastWatchRestart: string | null;
}

/**
 * The one way to the migration plan: read it (validated into a RouteTable), watch it, and
 * change it (compare-and-write, audited). The gateway's running plan, `gateway shift` /
 * `panic` / `plan push`, the admin API and the rollout controller all go through it, so there
 * is exactly one write path. Two implementations: the routes file (FilePlanStore) and etcd
 * (EtcdPlanStore); openPlanStore picks one from GATEWAY_PLAN_STORE.
 */
export interface PlanStore {
  /** Where the plan lives, for messages: the routes file, or the etcd store. */
  readonly location: string;
  /** Where its audit lives, for messages and /api/audit. */
  readonly auditLocation: string;
  /** On another machine (etcd): a serving process keeps a local copy of the plan it runs (PlanCache) for when the store is away. */
  readonly remote: boolean;
  /** The plan as it is now: 503 when it cannot be read, 409 when it does not validate. */
  read(): Promise<PlanRead>;
  /** Validates a plan text the way read() does (`source` names it in the problems), without touching the store. */
  validate(text: string, source: string): PlanRead;
  /** Calls `onChange` whenever the plan may have changed (read() tells what it says); `onError` when watching failed. */
  watch(onChange: () => void, onError: (error: Error) => void): { stop(): void };
  /**
   * Shift or panic: read → plan → edit the text (layout kept) → validate the result with the
   * gateway's own validator → (dry run: stop here) → write the text and its audit entries
   * together, only if nothing moved since the read. Anything refused leaves the plan as it was.
   */
  change(request: ChangeRequest, meta: ChangeMeta): Promise<ChangeResult>;
  /**
   * Replaces the whole plan with `text` (what `gateway plan push` sends; `source` names it in
   * validation problems), validated first, audited as action push, compare-and-write like change().
   */
  push(text: string, source: string, meta: ChangeMeta): Promise<ChangeResult>;
  /** The last `limit` audit entries, newest first. */
  audit(limit: number): Promise<readonly AuditEntry[]>;
  /** The same, with the count of entries that cannot be read (a hand edit, a torn write). */
  auditReport(limit: number): Promise<RecentAudit>;
  /** Whether the store answers now. */
  status(): StoreStatus;
  /** Calls `listener` whenever status() changes (up or down, a watch restarted). */
  onStatus(listener: (status: StoreStatus) => void): void;
  /** Releases connections; the store is unusable afterwards. */
  close(): void;
}
