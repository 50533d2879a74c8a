import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

/** The external programs the bench drives, with the Debian package that brings each. */
const TOOLS = [
  { command: 'wrk', debianPackage: 'wrk', why: 'saturation runs (wrk -t1 -c50 / -c200)' },
  { command: 'nginx', debianPackage: 'nginx', why: 'the static backends and the reference proxy' },
  { command: 'hey', debianPackage: 'hey', why: 'fixed-rate runs for the added latency (hey -q)' },
] as const;

export interface ToolVersions {
  readonly wrk: string;
  readonly nginx: string;
  readonly hey: string;
}

/** The tools that are not on PATH. */
export function missingTools(): (typeof TOOLS)[number][] {
  return TOOLS.filter((tool) => !onPath(tool.command));
}

export function installHint(missing: readonly (typeof TOOLS)[number][]): string {
  const lines = missing.map((tool) => `  ${tool.command.padEnd(6)} — ${tool.why}`);
  return [
    `bench: missing ${missing.map((t) => t.command).join(', ')}; nothing was run and nothing is installed for you:`,
    ...lines,
    'Install them (Debian/Ubuntu, as root) with:',
    `  apt-get update && apt-get install -y ${missing.map((t) => t.debianPackage).join(' ')}`,
    'then run `npm run bench` again. (The Debian nginx package may start a system nginx on port 80;',
    'the bench does not use it: it runs its own nginx processes on free loopback ports.)',
  ].join('\n');
}

/** Whether an executable `command` is in one of PATH's directories (looked up as a shell would, without needing one). */
function onPath(command: string): boolean {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .some((dir) => {
      try {
        accessSync(path.join(dir, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

export function toolVersions(): ToolVersions {
  return {
    wrk: firstLine(run('wrk', ['-v']))
      .replace(/ Copyright.*$/, '')
      .trim(),
    nginx: run('nginx', ['-v'])
      .replace(/^nginx version:\s*/, '')
      .trim(),
    hey: debianVersion('hey'),
  };
}

/** hey has no --version: the Debian package version says which one it is. */
function debianVersion(pkg: string): string {
  try {
    return `${pkg} ${execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8' }).trim()}`;
  } catch {
    return `${pkg} (version unknown)`;
  }
}

function run(command: string, args: string[]): string {
  // wrk -v exits 1 and nginx -v writes to stderr: keep whatever was printed, wherever.
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return `${result.stdout ?? ''}${result.stderr ?? ''}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
