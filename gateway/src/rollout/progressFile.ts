import path from 'node:path';
import { readTextIfExists, writeFileAtomically } from '@mythoughts/runtime/files';
import type { RolloutDecision, RolloutEventKind, RolloutState } from './decideStep.ts';
import type { CheckVerdict, GateResult } from './gates.ts';

/** One event of a rollout: what the webhooks get, the timeline shows and the progress file keeps. */
export interface RolloutEvent {
  readonly event: RolloutEventKind;
  readonly route: string;
  readonly group: string;
  /** The new backend's percent before and after. */
  readonly from: number;
  readonly to: number;
  readonly gates: Readonly<Record<string, { readonly value: number | null; readonly threshold: number }>>;
  /** ISO 8601. */
  readonly time: string;
  /** One line for people (Slack's incoming-webhook `text`). */
  readonly text: string;
}

export interface CheckRecord {
  readonly time: string;
  readonly verdict: CheckVerdict;
  readonly percent: number;
  readonly gates: readonly GateResult[];
  readonly reason: string;
}

/** What routes.yaml cannot hold about one route's rollout. */
export interface RouteProgress {
  /** Identity of the rollout: block the progress belongs to; an edited block starts afresh. */
  readonly block: string;
  readonly backend: string;
  readonly group: string;
  /** Where the rollout stands; while a write is pending, where it stood before it (the split as routes.yaml had it). */
  readonly state: RolloutState;
  /**
   * A split write about to happen, saved BEFORE routes.yaml is written: a process ended in
   * between sees from routes.yaml whether the write happened and carries the decision out
   * once, so the step is neither repeated nor skipped, nor taken for a human edit.
   */
  readonly pending: PendingWrite | null;
  readonly lastCheck: CheckRecord | null;
  /** Newest last, at most EVENTS_KEPT. */
  readonly events: readonly RolloutEvent[];
}

/** A decision whose split write was announced: everything needed to carry it out after a restart. */
export interface PendingWrite {
  readonly decision: RolloutDecision;
  /** The check that led to it (null for a start or a human's command). */
  readonly check: CheckRecord | null;
  /** Who the audit line names. */
  readonly who: string;
  /** When the decision was taken (ISO 8601): the time its events bear, also when a restart carries it out. */
  readonly announced?: string;
}

export const EVENTS_KEPT = 50;

/** `routes.rollout.json` beside `routes.yaml`. */
export function progressFileFor(routesFile: string): string {
  return path.join(path.dirname(path.resolve(routesFile)), `${path.basename(routesFile).replace(/\.ya?ml$/, '')}.rollout.json`);
}

/**
 * The rollout's progress beside routes.yaml (JSON, replaced atomically on every change, so
 * a crash leaves the old progress or the new one, never half of it).
 */
export class ProgressFile {
  constructor(readonly file: string) {}

  async read(): Promise<Record<string, RouteProgress>> {
    const text = await readTextIfExists(this.file);
    if (text === null || text.trim() === '') return {};
    try {
      return (JSON.parse(text) as { routes?: Record<string, RouteProgress> }).routes ?? {};
    } catch (error) {
      throw new Error(
        `${this.file} is not the rollout's JSON (${(error as Error).message}): fix it, or delete it to start every rollout afresh from the current split`,
        { cause: error },
      );
    }
  }

  async write(routes: Readonly<Record<string, RouteProgress>>): Promise<void> {
    await writeFileAtomically(this.file, `${JSON.stringify({ version: 1, routes }, null, 2)}\n`, { mode: 0o640 });
  }
}
