import type { ConfigProblem } from '../config/problems.ts';
import type { RouteTable } from '../config/routeTable.ts';
import type { PlanCache } from './planCache.ts';
import type { PlanSnapshot, PlanStore } from './planStore.ts';

export type ReloadResult =
  { readonly ok: true; readonly changed: boolean; readonly table: RouteTable } | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export interface PlanEvents {
  applied(plan: PlanSnapshot, trigger: string): void;
  rejected(problems: readonly ConfigProblem[], trigger: string): void;
  /** The store was unreachable at start, so the process runs the cached copy (`why`: the store's error). */
  startedFromCache?(file: string, version: string, why: string): void;
  /** A new plan runs but its local copy could not be written (the previous copy stays). */
  cacheNotWritten?(file: string, error: Error): void;
}

/** The last plan the store held that did not validate: what the fleet view shows as "rejected". */
export interface RejectedPlan {
  readonly version: string;
  readonly message: string;
  /** ms since the epoch. */
  readonly at: number;
}

/**
 * The running plan and its replacement, read through the PlanStore. A reload builds a
 * complete new RouteTable first and then swaps one reference: a request that already read
 * `table` finishes on it, the next request sees the new one, and an invalid plan changes
 * nothing. Reloads run one at a time, in order, so a slow read can never apply an older plan
 * over a newer one. With a remote store, every plan applied is also kept in the PlanCache.
 */
export class LivePlan {
  private queue: Promise<unknown> = Promise.resolve();
  private rejectedPlan: RejectedPlan | null = null;
  private appliedAt = Date.now();
  /** Copies are written one after another, so an older plan never lands over a newer one. */
  private copying: Promise<void> = Promise.resolve();

  private constructor(
    private current: PlanSnapshot,
    private readonly store: PlanStore,
    private readonly events: PlanEvents,
    private readonly cache: PlanCache | null,
  ) {}

  /**
   * The plan the store holds; when the store cannot be reached (503) and there is a cache, the
   * cached copy. Otherwise every problem (the store's, and the cache's).
   */
  static async load(store: PlanStore, events: PlanEvents, cache: PlanCache | null = null): Promise<LivePlan | readonly ConfigProblem[]> {
    const read = await store.read();
    if (read.ok) {
      const plan = new LivePlan(read, store, events, cache);
      events.applied(read, 'start');
      plan.keepCopy();
      return plan;
    }
    if (read.status !== 503 || cache === null) return read.problems;
    const text = await cache.load();
    if (text === null) {
      const none = {
        file: cache.file,
        line: 1,
        field: '',
        message: 'no cached copy of the plan either (it is written once the process has run a plan from the store)',
      };
      return [...read.problems, none];
    }
    const cached = store.validate(text, cache.file);
    if (!cached.ok) return [...read.problems, ...cached.problems];
    events.startedFromCache?.(cache.file, cached.version, read.message);
    events.applied(cached, 'cache');
    return new LivePlan(cached, store, events, cache);
  }

  get table(): RouteTable {
    return this.current.table;
  }

  /** The running plan's text, table and version (what a compare-and-write expects). */
  get snapshot(): PlanSnapshot {
    return this.current;
  }

  /** When the running plan was applied (ms since the epoch). */
  get since(): number {
    return this.appliedAt;
  }

  /** The last plan read that did not validate (kept while a valid one runs), null if none. */
  get rejected(): RejectedPlan | null {
    return this.rejectedPlan;
  }

  /**
   * Re-reads the plan. `onlyIfChanged` (watching) skips a plan whose text is the one running;
   * an explicit reload (SIGHUP, admin) always re-applies and counts.
   */
  reload(trigger: string, onlyIfChanged = false): Promise<ReloadResult> {
    const next = this.queue.then(() => this.reloadNow(trigger, onlyIfChanged));
    this.queue = next;
    return next;
  }

  private async reloadNow(trigger: string, onlyIfChanged: boolean): Promise<ReloadResult> {
    const read = await this.store.read();
    if (!read.ok) {
      if (read.version !== undefined) this.rejectedPlan = { version: read.version, message: read.message, at: Date.now() };
      this.events.rejected(read.problems, trigger);
      return { ok: false, problems: read.problems };
    }
    if (onlyIfChanged && read.version === this.current.version) return { ok: true, changed: false, table: this.current.table };
    this.current = { text: read.text, table: read.table, version: read.version };
    this.appliedAt = Date.now();
    this.events.applied(this.current, trigger);
    this.keepCopy();
    return { ok: true, changed: true, table: read.table };
  }

  private keepCopy(): void {
    const cache = this.cache;
    if (cache === null) return;
    const text = this.current.text;
    this.copying = this.copying.then(() => cache.save(text)).catch((error: Error) => this.events.cacheNotWritten?.(cache.file, error));
  }
}
