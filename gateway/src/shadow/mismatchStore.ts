import type { CapturedResponse } from './capturedResponse.ts';
import type { Difference } from './difference.ts';

/** One side's answer as the admin API shows it. */
export interface AnswerView {
  readonly backend: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body as text (redacted), at most SHOWN_BODY_CHARS. */
  readonly body: string;
  readonly bodyBytes: number;
  readonly ms: number;
}

export interface MismatchRecord {
  /** ISO time the comparison was made. */
  readonly at: string;
  readonly route: string;
  readonly requestId: string;
  readonly request: { readonly method: string; readonly target: string };
  readonly primary: AnswerView;
  readonly candidate: AnswerView;
  readonly differences: readonly Difference[];
  /** The differences as diff lines (`$[0].id: 1 → 5`). */
  readonly diff: readonly string[];
  /** Places that differed but are known noise (the primary itself answers them differently). */
  readonly noise: readonly string[];
}

const SHOWN_BODY_CHARS = 8_192;
const BEARER = /(bearer\s+)[\w.~+/=-]+/gi;
const SECRET_HEADERS = new Set(['authorization', 'cookie', 'set-cookie', 'proxy-authorization']);

/**
 * The last `capacity` mismatches (request, both answers, the diff), newest first, for the
 * admin API. A ring of fixed size: memory is bounded however many mismatches occur. Tokens,
 * cookies and password-like query values are redacted before they are kept.
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
  const text = redactSecrets(answer.body.toString('utf8'));
  return {
    backend: answer.backend,
    status: answer.status,
    headers,
    body: text.length > SHOWN_BODY_CHARS ? `${text.slice(0, SHOWN_BODY_CHARS)}…` : text,
    bodyBytes: answer.bodyBytes,
    ms: Math.round(answer.ms * 100) / 100,
  };
}

/** Bearer tokens in bodies or diff lines (a login answer carries one). */
export function redactSecrets(text: string): string {
  return text.replace(BEARER, '$1[redacted]');
}
