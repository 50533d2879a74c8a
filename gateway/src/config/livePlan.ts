import { readFile } from 'node:fs/promises';
import { compileRouteTable, loadRouteTable } from './loadRouteTable.ts';
import type { ConfigProblem } from './problems.ts';
import type { RouteTable } from './routeTable.ts';
import type { UrlOverride } from './validateBackends.ts';

export type ReloadResult =
  | { readonly ok: true; readonly changed: boolean; readonly table: RouteTable }
  | { readonly ok: false; readonly problems: readonly ConfigProblem[] };

export interface PlanEvents {
  applied(table: RouteTable, trigger: string): void;
  rejected(problems: readonly ConfigProblem[], trigger: string): void;
}

/**
 * The running plan and its replacement. A reload builds a complete new RouteTable first and
 * then swaps one reference: a request that already read `table` finishes on it, the next
 * request sees the new one, and an invalid file changes nothing. Reloads run one at a time,
 * in order, so a slow read can never apply an older file over a newer one.
 */
export class LivePlan {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private current: RouteTable,
    private currentText: string,
    private readonly file: string,
    private readonly urlOverride: UrlOverride,
    private readonly events: PlanEvents,
  ) {}

  static async load(file: string, urlOverride: UrlOverride, events: PlanEvents): Promise<LivePlan | readonly ConfigProblem[]> {
    const result = await loadRouteTable(file, urlOverride);
    if (!result.ok) return result.problems;
    events.applied(result.table, 'start');
    return new LivePlan(result.table, result.text, file, urlOverride, events);
  }

  get table(): RouteTable {
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
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      const problems = [{ file: this.file, line: 1, field: '', message: `cannot read the routes file: ${(error as Error).message}` }];
      this.events.rejected(problems, trigger);
      return { ok: false, problems };
    }
    if (onlyIfChanged && text === this.currentText) return { ok: true, changed: false, table: this.current };
    const result = compileRouteTable(text, this.file, this.urlOverride);
    if (!result.ok) {
      this.events.rejected(result.problems, trigger);
      return { ok: false, problems: result.problems };
    }
    this.current = result.table;
    this.currentText = text;
    this.events.applied(result.table, trigger);
    return { ok: true, changed: true, table: result.table };
  }
}
