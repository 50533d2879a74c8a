/**
 * Load while a fault happens: a few concurrent clients, each sending GETs one after the other
 * over its own keep-alive connections, until stopped. Every answer that is not 2xx and every
 * request that got no answer counts as failed, with what happened (a status and its body, or the
 * socket error), so a failure can be read, not just counted.
 */
export interface LoadOptions {
  /** The gateway (or any server): `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  /** Paths requested in turn; client n starts at path n. */
  readonly paths: readonly string[];
  readonly clients: number;
  /** Headers of request `i` of client `client` (e.g. a cohort cookie). */
  readonly headers?: (client: number, i: number) => Record<string, string>;
}

export interface LoadCounts {
  readonly tried: number;
  readonly failed: number;
  /** Answers by status (`error` for no answer at all). */
  readonly statuses: Readonly<Record<string, number>>;
  /** The first few failures, described. */
  readonly failures: readonly string[];
}

export interface Load {
  /** Counts so far (the load keeps running). */
  counts(): LoadCounts;
  /** Lets every client finish the request it is sending, starts no new one, and returns the counts. */
  stop(): Promise<LoadCounts>;
}

const FAILURES_KEPT = 10;

export function startLoad(options: LoadOptions): Load {
  let running = true;
  let tried = 0;
  let failed = 0;
  const statuses: Record<string, number> = {};
  const failures: string[] = [];
  const fail = (what: string) => {
    failed++;
    if (failures.length < FAILURES_KEPT) failures.push(what);
  };
  const client = async (n: number) => {
    for (let i = 0; running; i++) {
      const path = options.paths[(n + i) % options.paths.length]!;
      tried++;
      try {
        const response = await fetch(`${options.baseUrl}${path}`, { headers: options.headers?.(n, i), redirect: 'manual' });
        const body = await response.text();
        statuses[response.status] = (statuses[response.status] ?? 0) + 1;
        if (response.status < 200 || response.status > 299) fail(`GET ${path}: ${response.status} ${body.slice(0, 200)}`);
      } catch (error) {
        statuses.error = (statuses.error ?? 0) + 1;
        fail(`GET ${path}: ${describeError(error)}`);
      }
    }
  };
  const clients = Array.from({ length: options.clients }, (_, n) => client(n));
  const counts = (): LoadCounts => ({ tried, failed, statuses: { ...statuses }, failures: [...failures] });
  return {
    counts,
    async stop() {
      running = false;
      await Promise.all(clients);
      return counts();
    },
  };
}

/** fetch's "fetch failed" with the socket's own reason (ECONNRESET, UND_ERR_SOCKET: other side closed…). */
function describeError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause ? `${cause.code ?? ''} ${cause.message ?? ''}`.trim() : String(error);
}
