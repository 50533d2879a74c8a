// `npm run bench` drives wrk, nginx and hey. Run where one is missing, it must stop before
// starting anything and say what is missing and how to install it — the same Debian packages
// bench/README.md tells a user to install. Run on this machine with the tools taken off PATH.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir: string | undefined;

afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/**
 * This machine as it would be without `missing`: a PATH of one folder linking every command of
 * the real PATH (the first of each name, as a shell finds it) except those.
 */
async function benchWithout(missing: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  dir = mkdtempSync(path.join(tmpdir(), 'bench-path-'));
  const linked = new Set(missing);
  for (const folder of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue; // a PATH entry that does not exist
    }
    for (const name of names.filter((n) => !linked.has(n))) {
      linked.add(name);
      symlinkSync(path.join(folder, name), path.join(dir, name));
    }
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
    cwd: ROOT,
    env: { ...process.env, PATH: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

describe('npm run bench without its tools', () => {
  it('names every missing tool and the Debian packages to install, the ones bench/README.md lists, and runs nothing', async () => {
    const run = await benchWithout(['wrk', 'nginx', 'hey']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^bench: missing wrk, nginx, hey; nothing was run/);
    expect(run.stderr).toContain('  apt-get update && apt-get install -y wrk nginx hey\n');
    const documented = /apt-get install -y ([a-z0-9 -]+?)\s+#/.exec(readFileSync(path.join(ROOT, 'bench/README.md'), 'utf8'));
    expect(documented?.[1]).toBe('wrk nginx hey');
  });

  it('names only what is missing when the others are there', async () => {
    const run = await benchWithout(['hey']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^bench: missing hey; nothing was run/);
    expect(run.stderr).toContain('  apt-get update && apt-get install -y hey\n');
    expect(run.stderr).not.toMatch(/^ {2}(wrk|nginx) /m);
  });
});
