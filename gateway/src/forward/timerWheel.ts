/** Something with a deadline: `expire` runs once the deadline has passed, unless cancelled first. */
export interface Deadline {
  /** performance.now() milliseconds; set by TimerWheel.start. */
  deadline: number;
  expire(): void;
}

/**
 * One timer for every request deadline of the gateway (client bodies, back-end answers),
 * instead of a setTimeout and its closure per request: starting and cancelling a deadline
 * is a Set insert and delete. A tick every `resolutionMs` expires what is due, so deadlines
 * fire up to `resolutionMs` late — fine for timeouts counted in hundreds of milliseconds.
 * The tick runs only while a deadline is pending and never keeps the process alive.
 */
export class TimerWheel {
  private readonly pending = new Set<Deadline>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly resolutionMs = 25) {}

  start(entry: Deadline, afterMs: number): void {
    entry.deadline = performance.now() + afterMs;
    this.pending.add(entry);
    if (this.timer === null) {
      this.timer = setInterval(() => this.tick(), this.resolutionMs);
      this.timer.unref();
    }
  }

  cancel(entry: Deadline): void {
    this.pending.delete(entry);
  }

  private tick(): void {
    const now = performance.now();
    for (const entry of this.pending) {
      if (entry.deadline > now) continue;
      this.pending.delete(entry);
      entry.expire();
    }
    if (this.pending.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Forgets every deadline (shutdown). */
  stop(): void {
    this.pending.clear();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
