// deploy/haproxy/haproxy.cfg as the deploy tests read it: where the public frontend binds, the
// gateway servers with their health-check port, the check itself; and the same config mapped
// onto loopback ports so that a test can run HAProxy natively in front of native gateways.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './composeEnv.ts';

export const HAPROXY_CONFIG = path.join(REPO_ROOT, 'deploy/haproxy/haproxy.cfg');

export interface HaproxyServer {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Where its health check goes (`port N` on the server line). */
  readonly checkPort: number;
}

export interface HaproxyConfig {
  /** The port the `public` frontend binds. */
  readonly bindPort: number;
  /** The port the `stats` frontend (stats page, Prometheus exporter) binds. */
  readonly statsPort: number;
  readonly servers: readonly HaproxyServer[];
  readonly checkUri: string;
  readonly interMs: number;
  readonly fall: number;
}

/** The sections of the file: `frontend public` → its lines, comments and blank lines left out. */
function sections(text: string): Map<string, string[]> {
  const result = new Map<string, string[]>();
  let current: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trimEnd();
    if (!line.trim()) continue;
    if (!/^\s/.test(line)) result.set(line.trim(), (current = []));
    else current.push(line.trim());
  }
  return result;
}

const duration = (text: string) => (text.endsWith('ms') ? Number(text.slice(0, -2)) : Number(text.replace(/s$/, '')) * 1000);

export function readHaproxyConfig(file = HAPROXY_CONFIG): HaproxyConfig {
  const all = sections(readFileSync(file, 'utf8'));
  const frontend = all.get('frontend public') ?? [];
  const backendName = frontend.find((line) => line.startsWith('default_backend '))!.split(/\s+/)[1]!;
  const backend = all.get(`backend ${backendName}`) ?? [];
  const defaults = backend.find((line) => line.startsWith('default-server ')) ?? '';
  const setting = (name: string) => new RegExp(`\\b${name} (\\S+)`).exec(defaults)?.[1];
  const bindPort = (lines: readonly string[]) => Number(/:(\d+)$/.exec(lines.find((line) => line.startsWith('bind '))!.split(/\s+/)[1]!)![1]);
  return {
    bindPort: bindPort(frontend),
    statsPort: bindPort(all.get('frontend stats') ?? []),
    servers: backend
      .filter((line) => line.startsWith('server '))
      .map((line) => {
        const [, name, address, ...rest] = line.split(/\s+/) as [string, string, string, ...string[]];
        const [host, port] = address.split(':') as [string, string];
        const checkPort = rest.indexOf('port');
        return { name, host, port: Number(port), checkPort: checkPort < 0 ? Number(port) : Number(rest[checkPort + 1]) };
      }),
    checkUri: /\buri (\S+)/.exec(backend.find((line) => line.startsWith('http-check send')) ?? '')?.[1] ?? '',
    interMs: duration(setting('inter') ?? '2s'),
    fall: Number(setting('fall') ?? 3),
  };
}

/**
 * The shipped config with every `bind :PORT` on 127.0.0.1 at the port `binds` gives for it, and
 * each gateway server at its native address: what HAProxy runs natively in a test.
 */
export function nativeHaproxyConfig(
  binds: Readonly<Record<number, number>>,
  servers: Readonly<Record<string, { port: number; adminPort: number }>>,
  file = HAPROXY_CONFIG,
): string {
  return readFileSync(file, 'utf8')
    .replace(/^(\s*bind) :(\d+)$/gm, (whole, bind: string, port: string) => {
      const native = binds[Number(port)];
      if (native === undefined) throw new Error(`no native port given for "${whole.trim()}"`);
      return `${bind} 127.0.0.1:${native}`;
    })
    .replace(/^(\s*server) (\S+) \S+ port \d+$/gm, (whole, server: string, name: string) => {
      const native = servers[name];
      if (!native) throw new Error(`no native address given for "${whole.trim()}"`);
      return `${server} ${name} 127.0.0.1:${native.port} port ${native.adminPort}`;
    });
}
