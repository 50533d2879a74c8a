import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { compileRouteTable, describeProblems } from '../config/loadRouteTable.ts';
import type { RouteTable } from '../config/routeTable.ts';
import { noUrlOverride, type UrlOverride } from '../config/validateBackends.ts';
import { writeFileAtomically } from './atomicWrite.ts';
import { AuditLog, type AuditEntry } from './auditLog.ts';
import { planChange, type ChangeRequest, type Refusal, type RouteChange } from './planChange.ts';
import { writeSplits } from './routesDocument.ts';
import { sameSplit, splitOf } from './splitPercents.ts';
import { unifiedDiff } from './unifiedDiff.ts';

export interface ChangeOptions {
  readonly file: string;
  readonly request: ChangeRequest;
  readonly who: string;
  readonly via: AuditEntry['via'];
  readonly reason: string | null;
  readonly dryRun: boolean;
  readonly auditFile: string;
  /** The backend URL replacements the gateway runs with, so validation judges the same file it would. */
  readonly urlOverride?: UrlOverride;
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
}

export type ChangeResult = ({ readonly ok: true } & ChangeOutcome) | ({ readonly ok: false } & Refusal);

/** One change at a time per file within this process (the admin API can get concurrent requests). */
const queues = new Map<string, Promise<unknown>>();

/**
 * Shift or panic on a routes file: read → plan → edit the text (layout kept) → validate the
 * result with the gateway's own validator → (dry run: stop here) → write atomically →
 * audit. Anything refused leaves the file byte for byte as it was.
 */
export function changeRoutesFile(options: ChangeOptions): Promise<ChangeResult> {
  const key = path.resolve(options.file);
  const next = (queues.get(key) ?? Promise.resolve()).then(() => changeNow(options));
  const settled = next.catch(() => undefined);
  queues.set(key, settled);
  void settled.then(() => {
    if (queues.get(key) === settled) queues.delete(key);
  });
  return next;
}

async function changeNow(options: ChangeOptions): Promise<ChangeResult> {
  const urlOverride = options.urlOverride ?? noUrlOverride;
  const read = await readText(options.file);
  if (!read.ok) return read;
  const text = read.text;
  const current = compileRouteTable(text, options.file, urlOverride);
  if (!current.ok) {
    return { ok: false, status: 409, message: `${options.file} does not validate as it is, so it is left alone; fix it first:\n${describeProblems(current.problems)}` };
  }
  const planned = planChange(current.table, options.request);
  if (!planned.ok) return planned;
  if (planned.changes.length === 0) {
    return { ok: true, applied: false, changes: [], notes: [...planned.notes, 'nothing to change: the file already says this'], diff: '', before: current.table, after: current.table };
  }

  const edited = writeSplits(text, planned.changes, current.table.legacy.name);
  if (!edited.ok) return { ok: false, status: 409, message: `cannot edit ${options.file}: ${edited.message}` };
  const next = compileRouteTable(edited.text, options.file, urlOverride);
  if (!next.ok) {
    return { ok: false, status: 400, message: `the changed file would not validate, so nothing was written:\n${describeProblems(next.problems)}` };
  }
  const mismatch = planned.changes.find((c) => {
    const route = next.table.routes.find((r) => r.name === c.route);
    return !route || !sameSplit(splitOf(route), c.after);
  });
  if (mismatch) {
    return { ok: false, status: 500, message: `editing ${options.file} did not give route ${mismatch.route} the intended split; nothing was written (a bug: please report it with the file)` };
  }

  const outcome = { changes: planned.changes, notes: planned.notes, diff: unifiedDiff(text, edited.text, path.basename(options.file)), before: current.table, after: next.table };
  if (options.dryRun) return { ok: true, applied: false, ...outcome };

  let audit: AuditLog;
  try {
    audit = await AuditLog.openForAppend(options.auditFile);
  } catch (error) {
    return { ok: false, status: 500, message: `cannot open the audit log ${options.auditFile} (${(error as Error).message}); routes.yaml was not changed, since every change must be recorded (set GATEWAY_AUDIT_LOG to a writable file)` };
  }
  try {
    const again = await readText(options.file);
    if (!again.ok) return again;
    if (again.text !== text) return { ok: false, status: 409, message: `${options.file} changed while this change was prepared; nothing was written: look at the file and try again` };
    try {
      await writeFileAtomically(options.file, edited.text);
    } catch (error) {
      return { ok: false, status: 500, message: `cannot write ${options.file}: ${(error as Error).message}; the file is unchanged` };
    }
    const time = new Date().toISOString();
    const action: AuditEntry['action'] = options.request.kind === 'shift' ? 'shift' : 'panic';
    const entries: AuditEntry[] = planned.changes.map((c) => ({ time, who: options.who, via: options.via, action, route: c.route, group: c.group, old: c.before, new: c.after, reason: options.reason, file: path.resolve(options.file) }));
    try {
      await audit.append(entries);
    } catch (error) {
      return { ok: false, status: 500, message: `${options.file} WAS changed, but its audit line could not be written to ${options.auditFile}: ${(error as Error).message}. Record it by hand: ${JSON.stringify(entries)}` };
    }
  } finally {
    await audit.close();
  }
  return { ok: true, applied: true, ...outcome };
}

async function readText(file: string): Promise<{ ok: true; text: string } | ({ ok: false } & Refusal)> {
  try {
    return { ok: true, text: await readFile(file, 'utf8') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file (set GATEWAY_ROUTES or pass --file)' : (error as Error).message;
    return { ok: false, status: 503, message: `cannot read the routes file ${file}: ${reason}` };
  }
}
