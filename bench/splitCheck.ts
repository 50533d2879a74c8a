import http from 'node:http';

/**
 * A sanity check before measuring: N requests through a target, one per simulated client,
 * counting which backend answered (the backends' bodies name themselves). A proxy that does
 * not split 90/10, or answers errors, would make its req/s meaningless.
 */
export interface SplitCount {
  readonly requests: number;
  readonly ok: number;
  readonly byBackend: Readonly<Record<string, number>>;
  readonly firstError: string | null;
}

export async function checkSplit(url: string, headerLines: readonly string[], requests = 400): Promise<SplitCount> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const byBackend: Record<string, number> = {};
  let ok = 0;
  let firstError: string | null = null;
  try {
    for (let i = 0; i < requests; i++) {
      const line = headerLines[i % Math.max(1, headerLines.length)];
      const headers: Record<string, string> = {};
      if (line) {
        const at = line.indexOf(':');
        headers[line.slice(0, at)] = line.slice(at + 1).trim();
      }
      try {
        const { status, body } = await get(url, headers, agent);
        if (status === 200) {
          ok++;
          const backend = (JSON.parse(body) as { backend?: string }).backend ?? '?';
          byBackend[backend] = (byBackend[backend] ?? 0) + 1;
        } else {
          firstError ??= `HTTP ${status}: ${body.slice(0, 200)}`;
        }
      } catch (error) {
        firstError ??= (error as Error).message;
      }
    }
  } finally {
    agent.destroy();
  }
  return { requests, ok, byBackend, firstError };
}

function get(url: string, headers: Record<string, string>, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout after 5 s')));
    req.on('error', reject);
  });
}
