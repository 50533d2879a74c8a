import { Agent, request } from 'undici';
import { BodyCollector, flattenHeaders, type ResponseOutcome } from './capturedResponse.ts';

/** A request to send to a back end on the side: a mirrored copy, a noise sample, a compare. */
export interface OutgoingCopy {
  readonly method: string;
  /** Path and query, e.g. `/api/thoughts/?search=few`. */
  readonly target: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | null;
}

export interface CopyLimits {
  /** Whole answer, head and body. */
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
}

/** Headers undici computes itself or refuses to be given (they describe one connection). */
export const NOT_COPIED: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-connection',
]);

/**
 * The HTTP client of shadow traffic and of `gateway compare`: undici with a connection pool
 * of its own, so copies never take a socket the client's request could use, and each answer
 * is read with a time limit and a body cap. Every failure comes back as a value with a
 * reason, never as an exception: a failed copy is a result to count, not a crash.
 */
export class ShadowClient {
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 4_000, pipelining: 1 });

  async send(backend: { readonly name: string; readonly origin: string }, copy: OutgoingCopy, limits: CopyLimits): Promise<ResponseOutcome> {
    const started = performance.now();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(copy.headers)) if (!NOT_COPIED.has(name)) headers[name] = value;
    try {
      const response = await request(new URL(copy.target, backend.origin), {
        method: copy.method as 'GET',
        headers,
        body: copy.body ?? undefined,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(limits.timeoutMs),
      });
      const collector = new BodyCollector(limits.maxBodyBytes);
      for await (const chunk of response.body) {
        collector.push(chunk as Buffer);
        // Past the cap the rest is of no use: stop reading rather than download it.
        if (collector.truncated) {
          response.body.destroy();
          break;
        }
      }
      return {
        ok: true,
        backend: backend.name,
        status: response.statusCode,
        headers: flattenHeaders(response.headers),
        body: collector.body(),
        truncated: collector.truncated,
        bodyBytes: collector.bytes,
        ms: performance.now() - started,
      };
    } catch (error) {
      return { ok: false, backend: backend.name, reason: describeFailure(backend, error as Error, limits.timeoutMs) };
    }
  }

  /** Cuts whatever is still in flight (shutdown must not wait for a slow shadow). */
  async close(): Promise<void> {
    await this.agent.destroy();
  }
}

function describeFailure(backend: { readonly name: string; readonly origin: string }, error: Error, timeoutMs: number): string {
  if (error.name === 'TimeoutError') return `${backend.name} gave no complete answer within ${timeoutMs} ms`;
  const code = (error as NodeJS.ErrnoException).code ?? (error.cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ECONNREFUSED') return `${backend.name} refused the connection at ${backend.origin} (is it running?)`;
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${backend.name} (${backend.origin}) failed: ${error.message}${cause}`;
}
