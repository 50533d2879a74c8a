import type { ShadowPlan } from '../config/routeTable.ts';
import type { CapturedResponse } from './capturedResponse.ts';
import type { Difference } from './difference.ts';
import type { RecordedRequest } from './recordedRequest.ts';
import { keptBody } from './secrets.ts';

/** One side's answer as the admin API shows it and a replay compares against it. */
export interface AnswerView {
  readonly backend: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as text, secrets redacted, at most KEPT_BODY_BYTES of it (see `truncated`). */
  readonly body: string;
  /** `body` holds only the beginning of the answer (it was over the shadow's or the store's cap). */
  readonly truncated: boolean;
  readonly bodyBytes: number;
  readonly ms: number;
}

export interface MismatchRecord {
  /** ISO time the comparison was made. */
  readonly at: string;
  readonly route: string;
  readonly requestId: string;
  /** What it takes to send the request again (`gateway mismatches export`), secrets redacted or replaced by placeholders. */
  readonly request: RecordedRequest;
  readonly primary: AnswerView;
  readonly candidate: AnswerView;
  readonly differences: readonly Difference[];
  /** The differences as diff lines (`$[0].id: 1 → 5`). */
  readonly diff: readonly string[];
  /** Places that differed but are known noise (the primary itself answers them differently). */
  readonly noise: readonly string[];
}

/** A route's comparison rules as the running plan has them: what a replay of its mismatches must apply too. */
export interface ShadowRulesView {
  readonly to: string;
  /** The methods mirrored: a write among them means the route's shadow allows writes. */
  readonly methods: readonly string[];
  readonly headers: readonly string[];
  readonly ignore: readonly string[];
}

const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']);

/**
 * The last `capacity` mismatches (request, both answers, the diff), newest first, for the
 * admin API. A ring of fixed size, each body in it capped (KEPT_BODY_BYTES): memory is
 * bounded however many mismatches occur. Tokens, cookies and password-like values are
 * redacted before they are kept.
 */
export class MismatchStore {
  private readonly ring: MismatchRecord[] = [];
  private next = 0;
  /** Mismatches recorded since start, including those pushed out of the ring. */
  total = 0;

  constructor(readonly capacity = 100) {}

  add(record: MismatchRecord): void {
    this.total++;
    if (this.ring.length < this.capacity) this.ring.push(record);
    else this.ring[this.next] = record;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Newest first; optionally one route's only, at most `limit`. */
  list(options: { route?: string; limit?: number } = {}): MismatchRecord[] {
    const ordered = [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)].reverse();
    const chosen = options.route === undefined ? ordered : ordered.filter((record) => record.route === options.route);
    return chosen.slice(0, options.limit ?? this.capacity);
  }
}

export function answerView(answer: CapturedResponse): AnswerView {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer.headers)) headers[name] = SECRET_HEADERS.has(name) ? '[redacted]' : value;
  const body = keptBody(answer.body);
  return {
    backend: answer.backend,
    status: answer.status,
    headers,
    body: body.text,
    truncated: answer.truncated || body.truncated,
    bodyBytes: answer.bodyBytes,
    ms: Math.round(answer.ms * 100) / 100,
  };
}

export function shadowRulesView(plan: ShadowPlan): ShadowRulesView {
  return { to: plan.to.name, methods: [...plan.methods], headers: [...plan.headers], ignore: plan.ignore.map((rule) => rule.text) };
}
