import path from 'node:path';
import { readTextIfExists, writeFileAtomically } from '@mythoughts/runtime/files';
import type { UrlOverride } from '../config/validateBackends.ts';
import { AuditedPlanStore, versionOf, type CommitRefusal, type Loaded } from './auditedPlanStore.ts';
import { AuditLog, auditLogFileFor, readRecentAudit, type AuditEntry, type RecentAudit } from './auditLog.ts';
import { FileWatcher } from './fileWatcher.ts';

export interface FilePlanStoreOptions {
  readonly file: string;
  /** Default: $GATEWAY_AUDIT_LOG, else routes.audit.jsonl beside the file. */
  readonly auditFile?: string;
  /** The backend URL replacements the gateway runs with, so validation judges the same file it would. */
  readonly urlOverride?: UrlOverride;
}

/**
 * The plan as routes.yaml on local disk (`npm start`, a single gateway): written atomically
 * (temporary file + rename), audited to a JSON-lines file, watched through its directory.
 * A write compares the file's version (sha256 of its text) it read with the file's version
 * just before writing; the audit log is opened first, so a change that cannot be recorded is
 * not made. Always up: there is nothing between the process and its disk.
 */
export class FilePlanStore extends AuditedPlanStore<string> {
  readonly location: string;
  readonly auditLocation: string;
  readonly remote = false;
  protected readonly planPath: string;
  protected readonly noun = 'the routes file';
  protected readonly missing = 'no such file (set GATEWAY_ROUTES or pass the file path)';

  constructor(options: FilePlanStoreOptions) {
    super(options.urlOverride);
    this.location = options.file;
    this.planPath = path.resolve(options.file);
    this.auditLocation = options.auditFile ?? auditLogFileFor(options.file);
  }

  /** The basis is the version of the text read ('' for no file). */
  protected async load(): Promise<Loaded<string>> {
    try {
      const text = await readTextIfExists(this.location);
      return { ok: true, text, basis: text === null ? '' : versionOf(text) };
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
  }

  protected async commit(text: string, entries: readonly AuditEntry[], basis: string): Promise<CommitRefusal | null> {
    let audit: AuditLog;
    try {
      audit = await AuditLog.openForAppend(this.auditLocation);
    } catch (error) {
      return {
        status: 500,
        message: `cannot open the audit log ${this.auditLocation} (${(error as Error).message}); ${this.location} was not changed, since every change must be recorded (set GATEWAY_AUDIT_LOG to a writable file)`,
      };
    }
    try {
      // Another process (an editor, a second CLI) may have written meanwhile: never write over what it wrote.
      const again = await this.load();
      if (!again.ok) return { status: 503, message: `cannot read ${this.location}: ${again.reason}` };
      if (again.basis !== basis) return { movedTo: again.basis };
      try {
        await writeFileAtomically(this.location, text);
      } catch (error) {
        return { status: 500, message: `cannot write ${this.location}: ${(error as Error).message}; the file is unchanged` };
      }
      try {
        await audit.append(entries);
      } catch (error) {
        return {
          status: 500,
          message: `${this.location} WAS changed, but its audit line could not be written to ${this.auditLocation}: ${(error as Error).message}. Record it by hand: ${JSON.stringify(entries)}`,
        };
      }
    } finally {
      await audit.close();
    }
    return null;
  }

  /**
   * Watches the file; and, as the etcd store does, says once at the start that it may have
   * changed: a write made before the watch began (the rollout's first step, written while
   * the control plane starts) raises no event after it, and the watch wakes only for the file.
   */
  watch(onChange: () => void, onError: (error: Error) => void): { stop(): void } {
    const watcher = new FileWatcher(this.location, onChange, onError);
    watcher.start();
    onChange();
    return { stop: () => watcher.stop() };
  }

  auditReport(limit: number): Promise<RecentAudit> {
    return readRecentAudit(this.auditLocation, limit);
  }

  close(): void {
    // Nothing is held open between calls.
  }
}
