import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { readTextIfExists } from '@mythoughts/runtime/files';
import type { SplitPercents } from './splitPercents.ts';

/** What a change did: an operator's shift or panic, a step or rollback of the rollout controller, or a whole plan pushed (`gateway plan push`). */
export const AUDIT_ACTIONS = ['shift', 'panic', 'step', 'rollback', 'push'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One applied change of one route, as a line of the audit log. */
export interface AuditEntry {
  /** ISO 8601. */
  readonly time: string;
  /** `--by`, $USER, or the admin API's caller. */
  readonly who: string;
  readonly via: 'cli' | 'admin' | 'rollout';
  readonly action: AuditAction;
  /** `*` (and group `*`, empty splits) for a push that changed no route's split. */
  readonly route: string;
  readonly group: string;
  readonly old: SplitPercents;
  readonly new: SplitPercents;
  readonly reason: string | null;
  /** The plan changed: the routes file, or the etcd store's plan key. */
  readonly file: string;
  /** The plan's version (sha256 of its text) after the change. */
  readonly version: string;
  /** Extra facts the caller records with the change, e.g. the rollout's gate values. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** GATEWAY_AUDIT_LOG, else `routes.audit.jsonl` next to the routes file. */
export function auditLogFileFor(routesFile: string, env: NodeJS.ProcessEnv = process.env): string {
  return env.GATEWAY_AUDIT_LOG || path.join(path.dirname(path.resolve(routesFile)), 'routes.audit.jsonl');
}

/**
 * The append-only audit log (JSON lines). `openForAppend` comes first so that a log that
 * cannot be written stops a change BEFORE routes.yaml is touched: no change goes unrecorded.
 */
export class AuditLog {
  private constructor(
    private readonly handle: FileHandle,
    readonly file: string,
  ) {}

  static async openForAppend(file: string): Promise<AuditLog> {
    return new AuditLog(await open(file, 'a', 0o640), file);
  }

  /** One write call for all the lines of a change, so concurrent writers never interleave within it. */
  async append(entries: readonly AuditEntry[]): Promise<void> {
    await this.handle.appendFile(entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''), 'utf8');
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export interface RecentAudit {
  /** Newest first. */
  readonly entries: readonly AuditEntry[];
  /** Lines that are not JSON (a hand edit, a torn write): counted, so nobody is misled by a short list. */
  readonly unreadableLines: number;
}

/** The last `limit` entries; a log that does not exist yet is empty. */
export async function readRecentAudit(file: string, limit: number): Promise<RecentAudit> {
  const text = await readTextIfExists(file);
  if (text === null) return { entries: [], unreadableLines: 0 };
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  return parseAuditEntries(lines.slice(-limit).reverse());
}

/** Audit entries from their JSON texts, in the order given; a text that is not JSON is counted, not thrown. */
export function parseAuditEntries(texts: readonly string[]): RecentAudit {
  const entries: AuditEntry[] = [];
  let unreadableLines = 0;
  for (const text of texts) {
    try {
      entries.push(JSON.parse(text) as AuditEntry);
    } catch {
      unreadableLines += 1; // reported to the caller in unreadableLines
    }
  }
  return { entries, unreadableLines };
}
