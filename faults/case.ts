/**
 * One fault case of `npm run faults` (and of tests/faults): it starts what it needs, applies its
 * fault, and counts. `failed` counts what must never happen (a failed request, a plan accepted,
 * a request reaching /admin…); a case whose fault could not be shown to have happened counts
 * that as a failure too, so a row of zeros always means the fault was there and did no harm.
 */
export interface CaseResult {
  readonly tried: number;
  readonly failed: number;
  /** One line: what was done and what came of it, the failures named. */
  readonly detail: string;
}

/** How hard a case pushes: the tests use a little, the script more. */
export interface CaseSettings {
  /** Concurrent load clients. */
  readonly clients: number;
  /** Seconds of load around a fault (kill, SIGTERM). */
  readonly seconds: number;
  /** How many times each corpus entry is sent (tokens, slow clients). */
  readonly repeat: number;
  /** Seconds the fleet's etcd stays away in `etcd-down`. */
  readonly outage: number;
}

export interface FaultCase {
  /** The name `--only` takes. */
  readonly name: string;
  /** The row's fault and what it counts. */
  readonly summary: string;
  run(settings: CaseSettings): Promise<CaseResult>;
}

/** The public GETs the load sends through the gateway: the thoughts API on either side, and the monolith's HTML site. */
export const LOAD_PATHS = ['/api/thoughts/', '/api/thoughts/1/', '/api/thoughts/?search=few', '/login/'] as const;

/** Failures named in a detail line: the first few, then how many more. */
export function named(failures: readonly string[], most = 3): string {
  if (failures.length === 0) return '';
  const more = failures.length > most ? `; and ${failures.length - most} more` : '';
  return `; FAILED: ${failures.slice(0, most).join('; ')}${more}`;
}
