import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'load.lua');

/** One closed-loop saturation run: wrk -t1 -cN for a fixed time. */
export interface WrkResult {
  readonly requests: number;
  readonly seconds: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly timeouts: number;
  /** connect/read/write errors and non-2xx/3xx answers. */
  readonly errors: number;
  readonly non2xx: number;
}

export async function runWrk(url: string, connections: number, seconds: number, headersFile: string): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '2s', '-s', SCRIPT, url, '--', headersFile];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('wrk', args, { timeout: (seconds + 30) * 1000, maxBuffer: 1 << 20 }, (error, out, err) => {
      if (error) reject(new Error(`wrk ${args.join(' ')} failed: ${error.message}\n${err}`));
      else resolve(out);
    });
  });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH-JSON '));
  if (!line) throw new Error(`wrk printed no result:\n${stdout}`);
  const r = JSON.parse(line.slice('BENCH-JSON '.length)) as Record<string, number>;
  const secondsRun = r.duration_us! / 1e6;
  return {
    requests: r.requests!,
    seconds: secondsRun,
    requestsPerSecond: r.requests! / secondsRun,
    p50Ms: r.p50_us! / 1000,
    p99Ms: r.p99_us! / 1000,
    maxMs: r.max_us! / 1000,
    timeouts: r.timeout!,
    errors: r.connect! + r.read! + r.write!,
    non2xx: r.status!,
  };
}
