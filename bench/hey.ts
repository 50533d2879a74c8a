import { execFile } from 'node:child_process';

/**
 * One open-ish-loop run at a fixed rate: hey with W workers, each limited to rate/W requests
 * per second (`-q` is per worker), keep-alive on. Latencies come with 0.1 ms resolution.
 */
export interface FixedRateResult {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

const WORKERS = 20;

export async function runFixedRate(url: string, rate: number, seconds: number, header: string | null): Promise<FixedRateResult> {
  const workers = Math.min(WORKERS, rate);
  const args = ['-z', `${seconds}s`, '-c', String(workers), '-q', String(rate / workers), '-t', '5', '-disable-compression'];
  if (header) args.push('-H', header);
  args.push(url);
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile('hey', args, { timeout: (seconds + 30) * 1000, maxBuffer: 8 << 20 }, (error, out, err) => {
      if (error) reject(new Error(`hey failed: ${error.message}\n${err}`));
      else resolve(out);
    });
  });
  return parseHey(stdout);
}

function parseHey(text: string): FixedRateResult {
  const percentile = (p: number) => {
    const match = new RegExp(`^\\s*${p}%+ in ([\\d.]+) secs`, 'm').exec(text);
    if (!match) throw new Error(`hey output has no ${p}% latency:\n${text}`);
    return Number(match[1]) * 1000;
  };
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(text);
  const statusSection = section(text, 'Status code distribution:');
  const errorSection = section(text, 'Error distribution:');
  let ok = 0;
  let errors = 0;
  for (const match of statusSection.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)) {
    if (match[1]!.startsWith('2')) ok += Number(match[2]);
    else errors += Number(match[2]);
  }
  for (const match of errorSection.matchAll(/^\s*\[(\d+)\]/gm)) errors += Number(match[1]);
  return { requestsPerSecond: rps ? Number(rps[1]) : 0, p50Ms: percentile(50), p99Ms: percentile(99), errors: ok === 0 ? Math.max(1, errors) : errors };
}

/** The indented lines under a heading of hey's summary. */
function section(text: string, heading: string): string {
  const at = text.indexOf(heading);
  if (at === -1) return '';
  const rest = text.slice(at + heading.length).split('\n');
  const lines: string[] = [];
  for (const line of rest.slice(1)) {
    if (line.trim() === '') {
      if (lines.length > 0) break;
      continue;
    }
    if (!/^\s/.test(line)) break;
    lines.push(line);
  }
  return lines.join('\n');
}
