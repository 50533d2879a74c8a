import { createHash } from 'node:crypto';
import path from 'node:path';
import { compileRouteTable, describeProblems } from '../config/compileRouteTable.ts';
import type { ConfigProblem } from '../config/problems.ts';
import type { RouteTable } from '../config/routeTable.ts';
import { noUrlOverride, type UrlOverride } from '../config/validateBackends.ts';
import type { AuditAction, AuditEntry, RecentAudit } from './auditLog.ts';
import { fileDiff } from './fileDiff.ts';
import { planChange, type ChangeRequest, type Refusal, type RouteChange } from './planChange.ts';
import type { ChangeMeta, ChangeResult, PlanRead, PlanSnapshot, PlanStore, StoreStatus } from './planStore.ts';
import { writeSplits } from './routesDocument.ts';
import { sameSplit, splitOf } from './splitPercents.ts';

/**
 * What a store holds now: the text (null: no plan yet) and what a write compares on to make
 * sure nothing moved since (the file's version, etcd's mod revision); or why it cannot be read.
 */
export type Loaded<Basis> = { readonly ok: true; readonly text: string | null; readonly basis: Basis } | { readonly ok: false; readonly reason: string };

/** Why a commit did not happen: the plan moved on (to this version), or another refusal. */
export type CommitRefusal = { readonly movedTo: string } | Refusal;

/** One change at a time per plan within this process (the admin API and the rollout can change at once). */
const queues = new Map<string, Promise<unknown>>();

/**
 * The part every PlanStore shares: validation, and the one change algorithm (read → plan →
 * edit → validate → dry run stops here → commit with its audit entries). A store only says how
 * it loads the text, commits "this text and these entries if nothing moved since `basis`",
 * watches, and reads its audit.
 */
export abstract class AuditedPlanStore<Basis> implements PlanStore {
  abstract readonly location: string;
  abstract readonly auditLocation: string;
  abstract readonly remote: boolean;
  /** The plan's full name: recorded in audit entries (`file`), and its last part names the diff. */
  protected abstract readonly planPath: string;
  /** What the plan is, in messages: 'the routes file', 'the plan store'. */
  protected abstract readonly noun: string;
  /** Why read() fails when the store holds no plan. */
  protected abstract readonly missing: string;
  /** The last plan read: a text that did not change is not validated again. */
  private last: PlanSnapshot | null = null;
  private current: StoreStatus = { up: true, reason: null, since: Date.now(), watchRestarts: 0, lastWatchRestart: null };
  private readonly listeners: ((status: StoreStatus) => void)[] = [];

  constructor(private readonly urlOverride: UrlOverride = noUrlOverride) {}

  protected abstract load(): Promise<Loaded<Basis>>;
  /** Writes `text` and `entries` together if the plan is still at `basis` (and `meta.leadership` holds); null when done, else why not. */
  protected abstract commit(text: string, entries: readonly AuditEntry[], basis: Basis, meta: ChangeMeta): Promise<CommitRefusal | null>;
  abstract watch(onChange: () => void, onError: (error: Error) => void): { stop(): void };
  abstract auditReport(limit: number): Promise<RecentAudit>;
  abstract close(): void;

  async read(): Promise<PlanRead> {
    return this.validated(await this.load());
  }

  validate(text: string, source: string): PlanRead {
    const compiled = compileRouteTable(text, source, this.urlOverride);
    if (!compiled.ok) return this.invalid(source, versionOf(text), compiled.problems);
    return { ok: true, text, table: compiled.table, version: versionOf(text) };
  }

  change(request: ChangeRequest, meta: ChangeMeta): Promise<ChangeResult> {
    return this.oneAtATime(() => this.changeNow(request, meta));
  }

  push(text: string, source: string, meta: ChangeMeta): Promise<ChangeResult> {
    return this.oneAtATime(() => this.pushNow(text, source, meta));
  }

  async audit(limit: number): Promise<readonly AuditEntry[]> {
    return (await this.auditReport(limit)).entries;
  }

  status(): StoreStatus {
    return this.current;
  }

  onStatus(listener: (status: StoreStatus) => void): void {
    this.listeners.push(listener);
  }

  /** Records whether the store answered; listeners hear of changes only. */
  protected reportUp(up: boolean, reason: string | null = null): void {
    if (up === this.current.up) return;
    this.tell({ ...this.current, up, reason, since: Date.now() });
  }

  /** The watch was lost (reconnect, error, compaction) and is watching again. */
  protected watchRestarted(why: string): void {
    this.tell({ ...this.current, watchRestarts: this.current.watchRestarts + 1, lastWatchRestart: why });
  }

  private tell(status: StoreStatus): void {
    this.current = status;
    for (const listener of this.listeners) listener(status);
  }

  private moved(expected: string, actual: string): { ok: false } & Refusal {
    return {
      ok: false,
      status: 409,
      message: `${this.location} changed since it was read (expected version ${expected.slice(0, 12)}, it is now at ${actual.slice(0, 12) || 'empty'}); nothing was written: read the plan again and decide anew`,
    };
  }

  private validated(loaded: Loaded<Basis>): PlanRead {
    if (!loaded.ok) return this.unreadable(loaded.reason);
    if (loaded.text === null) return this.unreadable(this.missing);
    const version = versionOf(loaded.text);
    if (this.last?.version === version) return { ok: true, ...this.last };
    const compiled = compileRouteTable(loaded.text, this.location, this.urlOverride);
    if (!compiled.ok) return this.invalid(this.location, version, compiled.problems);
    this.last = { text: loaded.text, table: compiled.table, version };
    return { ok: true, ...this.last };
  }

  private invalid(source: string, version: string, problems: readonly ConfigProblem[]): PlanRead {
    return { ok: false, status: 409, message: `${source} is not a valid routes file:\n${describeProblems(problems)}`, problems, version };
  }

  private unreadable(reason: string): { ok: false; status: 503; message: string; problems: ConfigProblem[] } {
    const problems = [{ file: this.location, line: 1, field: '', message: `cannot read ${this.noun}: ${reason}` }];
    return { ok: false, status: 503, message: `cannot read ${this.noun} ${this.location}: ${reason}`, problems };
  }

  private oneAtATime(work: () => Promise<ChangeResult>): Promise<ChangeResult> {
    const next = (queues.get(this.planPath) ?? Promise.resolve()).then(work);
    const settled = next.catch(() => undefined);
    queues.set(this.planPath, settled);
    void settled.then(() => {
      if (queues.get(this.planPath) === settled) queues.delete(this.planPath);
    });
    return next;
  }

  private async changeNow(request: ChangeRequest, meta: ChangeMeta): Promise<ChangeResult> {
    const loaded = await this.load();
    if (!loaded.ok) return this.unreadable(loaded.reason);
    const current = this.validated(loaded);
    if (!current.ok) {
      if (current.status === 503) return current;
      return {
        ok: false,
        status: 409,
        message: `${this.location} does not validate as it is, so it is left alone; fix it first:\n${describeProblems(current.problems)}`,
      };
    }
    if (meta.expectVersion !== undefined && meta.expectVersion !== current.version) return this.moved(meta.expectVersion, current.version);
    const planned = planChange(current.table, request);
    if (!planned.ok) return planned;
    if (planned.changes.length === 0) {
      const notes = [...planned.notes, 'nothing to change: the plan already says this'];
      return { ok: true, applied: false, changes: [], notes, diff: '', before: current.table, after: current.table, version: current.version };
    }

    const edited = writeSplits(current.text, planned.changes, current.table.legacy.name);
    if (!edited.ok) return { ok: false, status: 409, message: `cannot edit ${this.location}: ${edited.message}` };
    const next = compileRouteTable(edited.text, this.location, this.urlOverride);
    if (!next.ok) {
      return { ok: false, status: 400, message: `the changed plan would not validate, so nothing was written:\n${describeProblems(next.problems)}` };
    }
    const mismatch = planned.changes.find((c) => {
      const route = next.table.routes.find((r) => r.name === c.route);
      return !route || !sameSplit(splitOf(route), c.after);
    });
    if (mismatch) {
      return {
        ok: false,
        status: 500,
        message: `editing ${this.location} did not give route ${mismatch.route} the intended split; nothing was written (a bug: please report it with the plan)`,
      };
    }
    const action = meta.action ?? (request.kind === 'shift' ? 'shift' : 'panic');
    return this.write(loaded.basis, current, { text: edited.text, table: next.table }, planned, { ...meta, action });
  }

  private async pushNow(text: string, source: string, meta: ChangeMeta): Promise<ChangeResult> {
    const next = this.validate(text, source);
    if (!next.ok) return { ok: false, status: 400, message: `${next.message}\nNothing was written.` };
    const loaded = await this.load();
    if (!loaded.ok) return this.unreadable(loaded.reason);
    const current = loaded.text === null ? null : this.validated(loaded);
    const version = loaded.text === null ? '' : versionOf(loaded.text);
    if (meta.expectVersion !== undefined && meta.expectVersion !== version) return this.moved(meta.expectVersion, version);
    if (loaded.text === text) {
      const notes = ['nothing to change: the store already holds this text'];
      return { ok: true, applied: false, changes: [], notes, diff: '', before: next.table, after: next.table, version };
    }
    const planned = current?.ok
      ? splitChanges(current.table, next.table)
      : { changes: [], notes: [current === null ? `the first plan in ${this.location}` : `${this.location} did not validate; this plan replaces it`] };
    const before = current?.ok ? current : { text: loaded.text ?? '', table: next.table, version };
    return this.write(loaded.basis, before, { text, table: next.table }, planned, { ...meta, action: meta.action ?? 'push' });
  }

  /** Dry run: the outcome as it would be. Otherwise the commit, with one audit entry per changed route (a push that changes no split: one for the plan). */
  private async write(
    basis: Basis,
    before: PlanSnapshot,
    after: { readonly text: string; readonly table: RouteTable },
    planned: { readonly changes: readonly RouteChange[]; readonly notes: readonly string[] },
    meta: ChangeMeta & { readonly action: AuditAction },
  ): Promise<ChangeResult> {
    const outcome = {
      changes: planned.changes,
      notes: planned.notes,
      diff: fileDiff(before.text, after.text, path.basename(this.planPath)),
      before: before.table,
      after: after.table,
    };
    if (meta.dryRun) return { ok: true, applied: false, ...outcome, version: before.version };
    const version = versionOf(after.text);
    const time = new Date().toISOString();
    const details = meta.details === undefined ? {} : { details: meta.details };
    const recorded = planned.changes.length > 0 ? planned.changes : [{ route: '*', group: '*', before: {}, after: {} }];
    const entries: AuditEntry[] = recorded.map((c) => ({
      time,
      who: meta.who,
      via: meta.via,
      action: meta.action,
      route: c.route,
      group: c.group,
      old: c.before,
      new: c.after,
      reason: meta.reason,
      file: this.planPath,
      version,
      ...details,
    }));
    const refused = await this.commit(after.text, entries, basis, meta);
    if (refused !== null) return 'movedTo' in refused ? this.moved(before.version, refused.movedTo) : { ok: false, ...refused };
    return { ok: true, applied: true, ...outcome, version };
  }
}

/** The sha256 of a plan's text: its version. */
export function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The routes whose split a whole new plan changes, and notes on routes it adds or removes. */
function splitChanges(before: RouteTable, after: RouteTable): { changes: RouteChange[]; notes: string[] } {
  const changes: RouteChange[] = [];
  const notes: string[] = [];
  for (const route of after.routes) {
    const old = before.routes.find((r) => r.name === route.name);
    if (!old) notes.push(`route ${route.name} is new`);
    else if (route.deny === null && old.deny === null && !sameSplit(splitOf(old), splitOf(route)))
      changes.push({ route: route.name, group: route.group, before: splitOf(old), after: splitOf(route) });
  }
  for (const route of before.routes) if (!after.routes.some((r) => r.name === route.name)) notes.push(`route ${route.name} is removed`);
  return { changes, notes };
}
