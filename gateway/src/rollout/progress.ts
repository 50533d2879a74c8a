import type { RolloutDecision, RolloutEventKind, RolloutState } from './decideStep.ts';
import type { CheckVerdict, GateResult } from './gates.ts';

/** One event of a rollout: what the webhooks get, the timeline shows and the progress keeps. */
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

/** What the plan cannot hold about one route's rollout. */
export interface RouteProgress {
  /** Identity of the rollout: block the progress belongs to; an edited block starts afresh. */
  readonly block: string;
  readonly backend: string;
  readonly group: string;
  /** Where the rollout stands; while a write is pending, where it stood before it (the split as routes.yaml had it). */
  readonly state: RolloutState;
  /**
   * A split write about to happen, saved BEFORE the plan is written: a controller ended in
   * between (a process killed, a leader replaced) leaves it to the next one, which sees from
   * the plan whether the write happened and carries the decision out once, so the step is
   * neither repeated nor skipped, nor taken for a human edit.
   */
  readonly pending: PendingWrite | null;
  readonly lastCheck: CheckRecord | null;
  /** The interval running now, as its check will judge it; null (or absent, in older progress) between a write and the next interval. */
  readonly window?: CheckWindow | null;
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

/**
 * An interval under way, saved so that the next controller (a new leader, a restarted
 * process) judges the same interval instead of starting a whole new one: its first check
 * comes when this one was due, or at once when that is past.
 */
export interface CheckWindow {
  /** The plan the interval judges (the step's, served by every live replica when it began): another plan since means another interval. */
  readonly version: string;
  readonly percent: number;
  /** The gate reader's baseline at the start (each replica's cumulative counters): the successor subtracts the same one. */
  readonly mark: unknown;
  readonly due: Deadline;
}

/**
 * When an interval is over, in a form the next reader of the progress can measure without
 * comparing two machines' clocks: an etcd lease granted for the interval and never renewed
 * (etcd's own clock counts it down), or, for a progress file that only this host writes, a
 * time by this host's clock.
 */
export type Deadline = { readonly lease: string } | { readonly at: number };

/**
 * Who may write: the rollout leader's election key and the revision it was created at. A
 * write that carries it is refused once the key is gone or was created again (the leader was
 * deposed: its lease expired, another replica leads).
 */
export interface Leadership {
  readonly key: string;
  readonly createRevision: string;
}

/**
 * Where the rollouts' progress lives: beside routes.yaml (one process, or a cluster primary)
 * or in the fleet's store (etcd: the controller moves between replicas with the leadership).
 * Each write replaces the whole progress, so a crash leaves the old one or the new one.
 */
export interface ProgressStore {
  /** For logs: the file, or the etcd key. */
  readonly where: string;
  read(): Promise<Record<string, RouteProgress>>;
  /** Refused (throws) when `leadership` no longer holds; a file has no leadership to check. */
  write(routes: Readonly<Record<string, RouteProgress>>, leadership: Leadership | null): Promise<void>;
  /** A deadline `seconds` from now, as this store measures time. */
  deadline(seconds: number): Promise<Deadline>;
  /** Milliseconds until `deadline` (0 once it is past), never less than the truth; null when this store cannot tell (another store's kind). */
  untilDeadline(deadline: Deadline): Promise<number | null>;
}

/** The one JSON shape of the progress, in a file or in etcd. */
export function progressText(routes: Readonly<Record<string, RouteProgress>>): string {
  return `${JSON.stringify({ version: 1, routes }, null, 2)}\n`;
}

/** The progress in `text`; `where` names it in the error when it is not the rollout's JSON. */
export function parseProgress(text: string | null, where: string): Record<string, RouteProgress> {
  if (text === null || text.trim() === '') return {};
  try {
    return (JSON.parse(text) as { routes?: Record<string, RouteProgress> }).routes ?? {};
  } catch (error) {
    throw new Error(
      `${where} is not the rollout's JSON (${(error as Error).message}): fix it, or delete it to start every rollout afresh from the current split`,
      {
        cause: error,
      },
    );
  }
}
