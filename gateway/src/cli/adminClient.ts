/**
 * The CLI's view of a running gateway: its admin API at GATEWAY_ADMIN_URL (default
 * http://127.0.0.1:9901) with GATEWAY_ADMIN_TOKEN. Every failure comes back as a sentence
 * saying what to do, because the CLI must still work (without live numbers) when no gateway
 * runs.
 */
const DEFAULT_ADMIN_URL = 'http://127.0.0.1:9901';

export type AdminReply<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

export class AdminClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string | null,
    private readonly timeoutMs = 2_000,
  ) {}

  static fromEnv(env: NodeJS.ProcessEnv = process.env): AdminClient {
    return new AdminClient((env.GATEWAY_ADMIN_URL || DEFAULT_ADMIN_URL).replace(/\/+$/, ''), env.GATEWAY_ADMIN_TOKEN || null);
  }

  get<T>(path: string): Promise<AdminReply<T>> {
    return this.call<T>(path, null);
  }

  /** A JSON POST; a refusal comes back as the API's own message (it names the problem). */
  post<T>(path: string, body: Readonly<Record<string, unknown>>): Promise<AdminReply<T>> {
    return this.call<T>(path, body);
  }

  private async call<T>(path: string, body: Readonly<Record<string, unknown>> | null): Promise<AdminReply<T>> {
    let response: Response;
    try {
      const auth: Record<string, string> = this.token ? { authorization: `Bearer ${this.token}` } : {};
      response = await fetch(`${this.baseUrl}${path}`, {
        method: body === null ? 'GET' : 'POST',
        headers: body === null ? auth : { ...auth, 'content-type': 'application/json' },
        body: body === null ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (error as Error).message;
      return {
        ok: false,
        reason: `cannot reach the gateway's admin API at ${this.baseUrl} (${why}): is the gateway running? (set GATEWAY_ADMIN_URL if it listens elsewhere)`,
      };
    }
    const text = await response.text();
    if (response.status === 401) {
      return { ok: false, reason: `the admin API at ${this.baseUrl} wants a token: set GATEWAY_ADMIN_TOKEN${this.token ? ' (the one set was refused)' : ''}` };
    }
    if (!response.ok) {
      const message = messageOf(text);
      return { ok: false, reason: message ?? `the admin API at ${this.baseUrl}${path} answered ${response.status}: ${text.slice(0, 200)}` };
    }
    try {
      return { ok: true, value: JSON.parse(text) as T };
    } catch {
      return { ok: false, reason: `the admin API at ${this.baseUrl}${path} answered something that is not JSON (is GATEWAY_ADMIN_URL the admin port?)` };
    }
  }
}

/** The `message` of an admin API error body (`{ status, message }`), or undefined when the body is something else. */
function messageOf(text: string): string | undefined {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined; // not JSON (a proxy's error page): the caller quotes the raw text instead
  }
}
