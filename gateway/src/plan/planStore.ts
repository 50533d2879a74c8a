import { createHash } from 'node:crypto';
import path from 'node:path';
import { readTextIfExists, writeFileAtomically } from '@mythoughts/shared/files';
import { compileRouteTable, describeProblems } from '../config/compileRouteTable.ts';
import type { ConfigProblem } from '../config/problems.ts';
import type { RouteTable } from '../config/routeTable.ts';
import { noUrlOverride, type UrlOverride } from '../config/validateBackends.ts';
import { AuditLog, auditLogFileFor, readRecentAudit, type AuditAction, type AuditEntry, type RecentAudit } from './auditLog.ts';
import { fileDiff } from './fileDiff.ts';
import { FileWatcher } from './fileWatcher.ts';
import { planChange, type ChangeRequest, type Refusal, type RouteChange } from './planChange.ts';
import { writeSplits } from './routesDocument.ts';
import { sameSplit, splitOf } from './splitPercents.ts';

/** One validated state of routes.yaml. `version` is the sha256 of `text`: equal text, equal version. */
export interface PlanSnapshot {
  readonly text: string;
  readonly table: RouteTable;
  readonly version: string;
}

/** A file that cannot be read or does not validate: `problems` has every problem, with file:line. */
export type PlanRead = ({ readonly ok: true } & PlanSnapshot) | ({ readonly ok: false } & Refusal & { readonly problems: readonly ConfigProblem[] });

/** Who changes the plan and how; recorded in the audit log with every applied change. */
export interface ChangeMeta {
  readonly who: string;
  readonly via: AuditEntry['via'];
  readonly reason: string | null;
  readonly dryRun: boolean;
  /** Default: the request's kind (shift, or panic for both panics). */
  readonly action?: AuditAction;
  /** Extra audit fields, e.g. the rollout's gate values. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Compare-and-write: refused with 409 unless the file is still at this version. */
  readonly expectVersion?: string;
}

export interface ChangeOutcome {
  /** False for a dry run and for a request that changes nothing. */
  readonly applied: boolean;
  readonly changes: readonly RouteChange[];
  readonly notes: readonly string[];
  /** Unified diff of the file; empty when nothing changes. */
  readonly diff: string;
  readonly before: RouteTable;
  readonly after: RouteTable;
  /** The file's version now: the new one when applied, else the one it had. */
  readonly version: string;
}

export type ChangeResult = ({ readonly ok: true } & ChangeOutcome) | ({ readonly ok: false } & Refusal);

export interface PlanStoreOptions {
  readonly file: string;
  /** Default: $GATEWAY_AUDIT_LOG, else routes.audit.jsonl beside the file. */
  readonly auditFile?: string;
  /** The backend URL replacements the gateway runs with, so validation judges the same file it would. */
  readonly urlOverride?: UrlOverride;
}

/** One change at a time per file within this process (the admin API and the rollout can change at once). */
const queues = new Map<string, Promise<unknown>>();

/**
 * The one way to routes.yaml: read (validated into a RouteTable), watch, and change it
 * (compare-and-write, audited). The gateway's running plan, `gateway shift` / `panic`, the
 * admin API and the rollout controller all go through it, so there is exactly one write path.
 */
export class PlanStore {
  readonly file: string;
  readonly auditFile: string;
  private readonly urlOverride: UrlOverride;
  /** The last snapshot read: a file that did not change is not validated again. */
  private last: PlanSnapshot | null = null;

  constructor(options: PlanStoreOptions) {
    this.file = options.file;
    this.auditFile = options.auditFile ?? auditLogFileFor(options.file);
    this.urlOverride = options.urlOverride ?? noUrlOverride;
  }

  /** The file as it is now: 503 when it cannot be read, 409 when it does not validate. */
  async read(): Promise<PlanRead> {
    let text: string | null;
    try {
      text = await readTextIfExists(this.file);
    } catch (error) {
      return this.unreadable((error as Error).message);
    }
    if (text === null) return this.unreadable('no such file (set GATEWAY_ROUTES or pass the file path)');
    const version = versionOf(text);
    if (this.last?.version === version) return { ok: true, ...this.last };
    const compiled = compileRouteTable(text, this.file, this.urlOverride);
    if (!compiled.ok) {
      return {
        ok: false,
        status: 409,
        message: `${this.file} is not a valid routes file:\n${describeProblems(compiled.problems)}`,
        problems: compiled.problems,
      };
    }
    this.last = { text, table: compiled.table, version };
    return { ok: true, ...this.last };
  }

  /** Calls `onChange` (after a short quiet period) whenever the file may have changed; read() tells what it says. */
  watch(onChange: () => void, onError: (error: Error) => void): { stop(): void } {
    const watcher = new FileWatcher(this.file, onChange, onError);
    watcher.start();
    return { stop: () => watcher.stop() };
  }

  /**
   * Shift or panic: read → plan → edit the text (layout kept) → validate the result with the
   * gateway's own validator → (dry run: stop here) → write atomically → audit. Anything
   * refused leaves the file byte for byte as it was.
   */
  change(request: ChangeRequest, meta: ChangeMeta): Promise<ChangeResult> {
    const key = path.resolve(this.file);
    const next = (queues.get(key) ?? Promise.resolve()).then(() => this.changeNow(request, meta));
    const settled = next.catch(() => undefined);
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return next;
  }

  /** The last `limit` audit entries, newest first. */
  async audit(limit: number): Promise<readonly AuditEntry[]> {
    return (await this.auditReport(limit)).entries;
  }

  /** The same, with the count of lines that are not JSON (a hand edit, a torn write). */
  auditReport(limit: number): Promise<RecentAudit> {
    return readRecentAudit(this.auditFile, limit);
  }

  private async changeNow(request: ChangeRequest, meta: ChangeMeta): Promise<ChangeResult> {
    const current = await this.read();
    if (!current.ok) {
      if (current.status === 503) return current;
      return {
        ok: false,
        status: 409,
        message: `${this.file} does not validate as it is, so it is left alone; fix it first:\n${describeProblems(current.problems)}`,
      };
    }
    if (meta.expectVersion !== undefined && meta.expectVersion !== current.version) return this.moved(meta.expectVersion, current.version);
    const planned = planChange(current.table, request);
    if (!planned.ok) return planned;
    const unchanged = { before: current.table, after: current.table, version: current.version };
    if (planned.changes.length === 0) {
      return { ok: true, applied: false, changes: [], notes: [...planned.notes, 'nothing to change: the file already says this'], diff: '', ...unchanged };
    }

    const edited = writeSplits(current.text, planned.changes, current.table.legacy.name);
    if (!edited.ok) return { ok: false, status: 409, message: `cannot edit ${this.file}: ${edited.message}` };
    const next = compileRouteTable(edited.text, this.file, this.urlOverride);
    if (!next.ok) {
      return { ok: false, status: 400, message: `the changed file would not validate, so nothing was written:\n${describeProblems(next.problems)}` };
    }
    const mismatch = planned.changes.find((c) => {
      const route = next.table.routes.find((r) => r.name === c.route);
      return !route || !sameSplit(splitOf(route), c.after);
    });
    if (mismatch) {
      return {
        ok: false,
        status: 500,
        message: `editing ${this.file} did not give route ${mismatch.route} the intended split; nothing was written (a bug: please report it with the file)`,
      };
    }

    const outcome = {
      changes: planned.changes,
      notes: planned.notes,
      diff: fileDiff(current.text, edited.text, path.basename(this.file)),
      before: current.table,
    };
    if (meta.dryRun) return { ok: true, applied: false, ...outcome, after: next.table, version: current.version };

    let audit: AuditLog;
    try {
      audit = await AuditLog.openForAppend(this.auditFile);
    } catch (error) {
      return {
        ok: false,
        status: 500,
        message: `cannot open the audit log ${this.auditFile} (${(error as Error).message}); routes.yaml was not changed, since every change must be recorded (set GATEWAY_AUDIT_LOG to a writable file)`,
      };
    }
    const version = versionOf(edited.text);
    try {
      // Another process (an editor, a second CLI) may have written meanwhile: never write over what it wrote.
      const again = await this.read();
      if (!again.ok) return again;
      if (again.version !== current.version) return this.moved(current.version, again.version);
      try {
        await writeFileAtomically(this.file, edited.text);
      } catch (error) {
        return { ok: false, status: 500, message: `cannot write ${this.file}: ${(error as Error).message}; the file is unchanged` };
      }
      this.last = { text: edited.text, table: next.table, version };
      const time = new Date().toISOString();
      const action = meta.action ?? (request.kind === 'shift' ? 'shift' : 'panic');
      const details = meta.details === undefined ? {} : { details: meta.details };
      const entries: AuditEntry[] = planned.changes.map((c) => ({
        time,
        who: meta.who,
        via: meta.via,
        action,
        route: c.route,
        group: c.group,
        old: c.before,
        new: c.after,
        reason: meta.reason,
        file: path.resolve(this.file),
        version,
        ...details,
      }));
      try {
        await audit.append(entries);
      } catch (error) {
        return {
          ok: false,
          status: 500,
          message: `${this.file} WAS changed, but its audit line could not be written to ${this.auditFile}: ${(error as Error).message}. Record it by hand: ${JSON.stringify(entries)}`,
        };
      }
    } finally {
      await audit.close();
    }
    return { ok: true, applied: true, ...outcome, after: next.table, version };
  }

  private unreadable(reason: string): PlanRead {
    const problems = [{ file: this.file, line: 1, field: '', message: `cannot read the routes file: ${reason}` }];
    return { ok: false, status: 503, message: `cannot read the routes file ${this.file}: ${reason}`, problems };
  }

  private moved(expected: string, actual: string): { ok: false } & Refusal {
    return {
      ok: false,
      status: 409,
      message: `${this.file} changed since it was read (expected version ${expected.slice(0, 12)}, it is now at ${actual.slice(0, 12)}); nothing was written: read the plan again and decide anew`,
    };
  }
}

export function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
