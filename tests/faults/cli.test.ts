import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CASES } from '../../faults/cases/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const faults = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'faults/run.ts', ...args], { cwd: ROOT, encoding: 'utf8' });

describe('npm run faults: its command line', () => {
  it('--help lists every case and option, exit 0, starting nothing', () => {
    const help = faults('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^npm run faults -- \[options\]/);
    for (const c of CASES) expect(help.stdout).toContain(`  ${c.name.padEnd(14)} ${c.summary}`);
    for (const option of ['--only', '--clients', '--seconds', '--repeat']) expect(help.stdout).toContain(option);
  });

  it('refuses an unknown case or a bad number with one line naming it, then the help, exit 1', () => {
    const unknown = faults('--only', 'sigterm,nope');
    expect(unknown.status).toBe(1);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr.split('\n')[0]).toBe(`faults: --only: no case called nope; the cases are ${CASES.map((c) => c.name).join(', ')}`);
    const zero = faults('--clients', '0');
    expect(zero.status).toBe(1);
    expect(zero.stderr.split('\n')[0]).toBe('faults: --clients must be a whole number from 1 to 200 (got "0")');
  });
});
