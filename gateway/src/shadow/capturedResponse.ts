import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { BodyObserver, ResponseHead } from '../forward/responseSteps.ts';

/** One answer kept for comparison: its head and at most `maxBodyBytes` of its body. */
export interface CapturedResponse {
  readonly ok: true;
  readonly backend: string;
  readonly status: number;
  /** Every response header, lower-case names, repeated ones joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** The body was longer than the cap: `body` holds only its beginning. */
  readonly truncated: boolean;
  /** The whole body's length as received (also past the cap). */
  readonly bodyBytes: number;
  readonly ms: number;
}

/** An answer that could not be had, and why, in words a person can act on. */
export interface FailedResponse {
  readonly ok: false;
  readonly backend: string;
  readonly reason: string;
}

export type ResponseOutcome = CapturedResponse | FailedResponse;

/** Keeps the first `cap` bytes of a body and counts the rest, so memory stays bounded. */
export class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  bytes = 0;

  constructor(private readonly cap: number) {}

  push(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.kept >= this.cap) return;
    const part = this.kept + chunk.length <= this.cap ? chunk : chunk.subarray(0, this.cap - this.kept);
    this.chunks.push(part);
    this.kept += part.length;
  }

  get truncated(): boolean {
    return this.bytes > this.cap;
  }

  body(): Buffer {
    return Buffer.concat(this.chunks, this.kept);
  }
}

export function flattenHeaders(headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return flat;
}

/** A flat `[name, value, …]` header list as a record: lower-case names, repeated ones joined with ', '. */
function flatHeadersRecord(headers: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!.toLowerCase();
    record[name] = record[name] === undefined ? headers[i + 1]! : `${record[name]}, ${headers[i + 1]!}`;
  }
  return record;
}

/**
 * The primary's answer, read on the side while the forwarder streams it to the client: a
 * body observer sees the same chunks, so the client gets every byte unchanged and as fast
 * as before, and the tap keeps a bounded copy. The outcome
 * settles when the body ends, when it is cut, or when the client's response closes without
 * any answer having been captured (the primary failed).
 */
export class ResponseTap {
  readonly outcome: Promise<ResponseOutcome>;
  private settle!: (outcome: ResponseOutcome) => void;
  private captured = false;

  constructor(
    private readonly maxBodyBytes: number,
    res: ServerResponse,
    whyNoAnswer: () => string,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
    res.once('close', () => {
      if (!this.captured) this.settle({ ok: false, backend: 'primary', reason: `the primary gave no answer: ${whyNoAnswer()}` });
    });
  }

  /** Called with the head of the answer that goes to the client, before it streams; the observer sees its body. */
  observe(head: ResponseHead): BodyObserver {
    this.captured = true;
    const { backend, status } = head;
    const headers = flatHeadersRecord(head.headers);
    const collector = new BodyCollector(this.maxBodyBytes);
    const settle = this.settle;
    return {
      data: (chunk) => collector.push(chunk),
      end: () =>
        settle({
          ok: true,
          backend: backend.name,
          status,
          headers,
          body: collector.body(),
          truncated: collector.truncated,
          bodyBytes: collector.bytes,
          ms: head.upstreamMs,
        }),
      cut: (reason) => settle({ ok: false, backend: backend.name, reason: `${reason} after ${collector.bytes} bytes` }),
    };
  }
}
