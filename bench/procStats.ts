import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * CPU time and memory of a server process and its children (nginx's master + worker, a
 * gateway's cluster workers), read from /proc: no sampling, no agent in the process.
 */
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** pid and every descendant, found through /proc/<pid>/task/<tid>/children. */
function processTree(pid: number): number[] {
  const all = [pid];
  for (let i = 0; i < all.length; i++) {
    const current = all[i]!;
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const task of tasks) {
      try {
        const children = readFileSync(`/proc/${current}/task/${task}/children`, 'utf8').trim();
        if (children) all.push(...children.split(/\s+/).map(Number));
      } catch {
        // the task ended meanwhile
      }
    }
  }
  return all;
}

/** User + system CPU seconds used so far by the process tree (children already reaped excluded). */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of processTree(pid)) {
    try {
      ticks += ticksOf(`/proc/${p}/stat`);
    } catch {
      // gone
    }
  }
  return ticks / CLOCK_TICKS;
}

/** User + system CPU seconds of one thread (the main thread: tid = pid). */
export function threadCpuSeconds(pid: number, tid = pid): number {
  return ticksOf(`/proc/${pid}/task/${tid}/stat`) / CLOCK_TICKS;
}

function ticksOf(statFile: string): number {
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
  const stat = readFileSync(statFile, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * Starts the peak-RSS count (VmHWM) of the process tree afresh (`5` to /proc/<pid>/clear_refs),
 * so the next memory() reads the peak since now: the peak under a load, not the start-up's
 * (loading and compiling the TypeScript sources peaks higher than serving does).
 */
export function resetPeak(pid: number): void {
  for (const p of processTree(pid)) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      // gone, or not ours to reset: its peak then counts from its start
    }
  }
}

/** Memory in bytes: `peak` = VmHWM (high-water mark of RSS), `current` = VmRSS, summed over the tree. */
export function memory(pid: number): { peak: number; current: number } {
  let peak = 0;
  let current = 0;
  for (const p of processTree(pid)) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      peak += kib(status, 'VmHWM') * 1024;
      current += kib(status, 'VmRSS') * 1024;
    } catch {
      // gone
    }
  }
  return { peak, current };
}

function kib(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) : 0;
}
