import type { GateReading } from './gates.ts';

/** Which series one rollout is judged on: its group's routes, the new backend and the legacy baseline. */
export interface GateQuery {
  /** The routes of the rollout's group (they move together, so they are judged together). */
  readonly routes: readonly string[];
  readonly backend: string;
  readonly legacy: string;
}

/**
 * Where the gate values come from: this process's own metrics, or Prometheus (the sum over
 * every replica). Both do the same arithmetic: counters and histogram buckets differenced
 * over the interval.
 */
export interface GateReader {
  /**
   * Marks the start of an interval for `key` (a step was written, the rollout started). Returns
   * the baseline as JSON (null when the reader needs none), saved in the progress for a successor.
   */
  startWindow(key: string, query: GateQuery): Promise<unknown>;
  /** Takes up an interval another controller began: `mark` is what its startWindow returned. */
  resumeWindow(key: string, mark: unknown): void;
  /** What the interval of `seconds` since startWindow saw. */
  read(key: string, query: GateQuery, seconds: number): Promise<GateReading>;
}
