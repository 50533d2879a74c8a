import type { ConfigProblem } from '../config/problems.ts';
import type { RouteTable } from '../config/routeTable.ts';
import type { PlanSnapshot, PlanStore } from './planStore.ts';

export type ReloadResult =
  { readonly ok: true; readonly changed: boolean; readonly table: RouteTable } | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export interface PlanEvents {
  applied(table: RouteTable, trigger: string): void;
  rejected(problems: readonly ConfigProblem[], trigger: string): void;
}

/**
 * The running plan and its replacement, read through the PlanStore. A reload builds a
 * complete new RouteTable first and then swaps one reference: a request that already read
 * `table` finishes on it, the next request sees the new one, and an invalid file changes
 * nothing. Reloads run one at a time, in order, so a slow read can never apply an older file
 * over a newer one.
 */
export class LivePlan {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private current: PlanSnapshot,
    private readonly store: PlanStore,
    private readonly events: PlanEvents,
  ) {}

  static async load(store: PlanStore, events: PlanEvents): Promise<LivePlan | readonly ConfigProblem[]> {
    const read = await store.read();
    if (!read.ok) return read.problems;
    events.applied(read.table, 'start');
    return new LivePlan(read, store, events);
  }

  get table(): RouteTable {
    return this.current.table;
  }

  /** The running file's text, table and version (what a compare-and-write expects). */
  get snapshot(): PlanSnapshot {
    return this.current;
  }

  /**
   * Re-reads the file. `onlyIfChanged` (file watching) skips a file whose text is the one
   * running; an explicit reload (SIGHUP, admin) always re-applies and counts.
   */
  reload(trigger: string, onlyIfChanged = false): Promise<ReloadResult> {
    const next = this.queue.then(() => this.reloadNow(trigger, onlyIfChanged));
    this.queue = next;
    return next;
  }

  private async reloadNow(trigger: string, onlyIfChanged: boolean): Promise<ReloadResult> {
    const read = await this.store.read();
    if (!read.ok) {
      this.events.rejected(read.problems, trigger);
      return { ok: false, problems: read.problems };
    }
    if (onlyIfChanged && read.version === this.current.version) return { ok: true, changed: false, table: this.current.table };
    this.current = { text: read.text, table: read.table, version: read.version };
    this.events.applied(read.table, trigger);
    return { ok: true, changed: true, table: read.table };
  }
}
