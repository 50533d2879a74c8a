// The process supervisor behind `npm start`: keeps every process of the system running. When
// one dies, the others keep serving (the gateway falls back to the monolith) while the dead
// one is restarted with backoff; one that keeps failing is given up on with a clear message.
import type { ChildProcess } from 'node:child_process';
import { ConfigError } from '@mythoughts/runtime/errors';

export interface SupervisedSpec {
  name: string;
  /** Answers 2xx once the process serves. */
  healthUrl: string;
}

export interface RestartPolicy {
  /** Restarts in a row (without the process ever answering its health check in between) before giving up. */
  maxRestarts: number;
  /** The first restart's delay; each further one in a row doubles it, up to `maxDelayMs`. */
  firstDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = Object.freeze({ maxRestarts: 5, firstDelayMs: 500, maxDelayMs: 10_000 });

/** Why the supervisor stopped trying: a process that failed `maxRestarts + 1` times in a row. */
export interface GiveUp {
  name: string;
  failures: number;
  lastExit: string;
}

interface Supervised<S extends SupervisedSpec> {
  readonly spec: S;
  child: ChildProcess;
  /** Exits since it last answered its health check. */
  failuresInARow: number;
  /** How many times it was started: a health check waits for one start only. */
  generation: number;
  restartTimer: NodeJS.Timeout | null;
  givenUp: boolean;
}

export class Supervisor<S extends SupervisedSpec> {
  private readonly processes: Supervised<S>[];
  private stopping = false;

  constructor(
    specs: readonly S[],
    private readonly spawnProcess: (spec: S) => ChildProcess,
    private readonly log: (line: string) => void,
    private readonly onGiveUp: (giveUp: GiveUp) => void,
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {
    this.processes = specs.map((spec) => this.launch({ spec, failuresInARow: 0, generation: 0, restartTimer: null, givenUp: false } as Supervised<S>));
  }

  /**
   * True once every process answers its health check (restarts included), false when the
   * supervisor stopped or gave up on one first; rejects after `timeoutMs`.
   */
  async waitAllHealthy(timeoutMs = 60_000): Promise<boolean> {
    const healthy = await Promise.all(this.processes.map((p) => this.waitHealthy(p, timeoutMs)));
    return healthy.every(Boolean);
  }

  /**
   * No more restarts from now on (a process that exits stays down), nothing killed yet: what a
   * later stage's supervisor is told while an earlier one stops first.
   */
  holdRestarts(): void {
    this.stopping = true;
    for (const p of this.processes) if (p.restartTimer) clearTimeout(p.restartTimer);
  }

  /** SIGTERM to every running process, no more restarts; resolves when all have exited. */
  async stop(): Promise<void> {
    this.holdRestarts();
    const running = this.processes.map((p) => p.child).filter((child) => child.exitCode === null && child.signalCode === null);
    for (const child of running) child.kill('SIGTERM');
    await Promise.all(running.map((child) => new Promise((resolve) => child.once('exit', resolve))));
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  private launch(p: Supervised<S>): Supervised<S> {
    p.child = this.spawnProcess(p.spec);
    p.generation += 1;
    this.log(`started ${p.spec.name} (pid ${p.child.pid})`);
    p.child.once('exit', (code, signal) => this.exited(p, signal ?? `exit ${code}`));
    return p;
  }

  private exited(p: Supervised<S>, how: string): void {
    if (this.stopping) return;
    p.failuresInARow += 1;
    if (p.failuresInARow > this.policy.maxRestarts) {
      p.givenUp = true;
      this.log(`${p.spec.name} stopped (${how}) and gave up: it failed ${p.failuresInARow} times in a row without answering ${p.spec.healthUrl}`);
      this.onGiveUp({ name: p.spec.name, failures: p.failuresInARow, lastExit: how });
      return;
    }
    const delay = Math.min(this.policy.firstDelayMs * 2 ** (p.failuresInARow - 1), this.policy.maxDelayMs);
    this.log(
      `${p.spec.name} stopped (${how}); the others keep running; restarting it in ${delay / 1000} s (restart ${p.failuresInARow} of at most ${this.policy.maxRestarts} in a row)`,
    );
    p.restartTimer = setTimeout(() => {
      p.restartTimer = null;
      if (this.stopping) return;
      this.launch(p);
      this.waitHealthy(p, 60_000, p.generation).then(
        (back) => back && this.log(`${p.spec.name} is back (pid ${p.child.pid}): ${p.spec.healthUrl} answers`),
        (error: Error) => this.log(error.message),
      );
    }, delay);
  }

  /**
   * Polls the process's health URL until it answers (true), following restarts unless
   * `generation` pins one start; false once the supervisor stops, gives up on it, or (pinned)
   * it was restarted again.
   */
  private async waitHealthy(p: Supervised<S>, timeoutMs: number, generation?: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.stopping && !p.givenUp && (generation === undefined || p.generation === generation)) {
      if (p.restartTimer === null && (await answers(p.spec.healthUrl))) {
        p.failuresInARow = 0;
        return true;
      }
      if (Date.now() > deadline) throw new ConfigError(`${p.spec.name} did not answer ${p.spec.healthUrl} within ${Math.round(timeoutMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false; // not listening (yet)
  }
}
