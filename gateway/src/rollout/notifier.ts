import type { Logger } from 'pino';
import type { RolloutEvent } from './progress.ts';
import type { RolloutMetrics } from './rolloutMetrics.ts';

export interface NotifierOptions {
  /** Delays before the 2nd, 3rd… try. Default 1, 2, 4, 8 s. */
  readonly backoffMs?: readonly number[];
  /** One POST's bound. Default 5 s. */
  readonly timeoutMs?: number;
  /** Events waiting per URL; beyond it the oldest is dropped (counted). Default 100. */
  readonly maxQueued?: number;
}

/**
 * Webhooks: each event is POSTed as JSON to every `notify` URL. Each URL has its own queue,
 * delivered in order, one POST at a time, retried with backoff; nothing here is awaited by
 * the controller or by a request, and every failure is logged and counted.
 */
export class Notifier {
  private readonly queues = new Map<string, RolloutEvent[]>();
  private readonly running = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly backoffMs: readonly number[];
  private readonly timeoutMs: number;
  private readonly maxQueued: number;

  constructor(
    private readonly logger: Logger,
    private readonly metrics: RolloutMetrics,
    options: NotifierOptions = {},
  ) {
    this.backoffMs = options.backoffMs ?? [1_000, 2_000, 4_000, 8_000];
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxQueued = options.maxQueued ?? 100;
  }

  send(urls: readonly string[], event: RolloutEvent): void {
    if (this.closed) return;
    for (const url of urls) {
      const queue = this.queues.get(url) ?? [];
      queue.push(event);
      if (queue.length > this.maxQueued) {
        const dropped = queue.shift()!;
        this.metrics.notifications.inc({ result: 'dropped' });
        this.logger.error(
          { url, event: dropped.event, route: dropped.route },
          `rollout webhook ${url}: more than ${this.maxQueued} events waiting, the oldest dropped`,
        );
      }
      this.queues.set(url, queue);
      if (!this.running.has(url)) void this.drain(url);
    }
  }

  private async drain(url: string): Promise<void> {
    this.running.add(url);
    const queue = this.queues.get(url)!;
    while (queue.length > 0 && !this.closed) {
      await this.deliver(url, queue[0]!);
      queue.shift();
    }
    this.running.delete(url);
  }

  private async deliver(url: string, event: RolloutEvent): Promise<void> {
    const body = JSON.stringify(event);
    for (let attempt = 0; ; attempt++) {
      const problem = await this.post(url, body);
      if (problem === null) return void this.metrics.notifications.inc({ result: 'delivered' });
      const delay = this.backoffMs[attempt];
      if (delay === undefined || this.closed) {
        this.metrics.notifications.inc({ result: 'failed' });
        this.logger.error(
          { url, event: event.event, route: event.route, attempts: attempt + 1, problem },
          `rollout webhook ${url}: ${event.event} of ${event.route} not delivered after ${attempt + 1} attempts: ${problem}`,
        );
        return;
      }
      this.metrics.notifications.inc({ result: 'retried' });
      this.logger.warn(
        { url, event: event.event, route: event.route, attempt: attempt + 1, retryInMs: delay, problem },
        `rollout webhook ${url}: ${problem}; retrying in ${delay} ms`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          resolve();
        }, delay);
        this.timers.add(timer);
      });
    }
  }

  /** Null when the receiver took it (2xx), else what went wrong. */
  private async post(url: string, body: string): Promise<string | null> {
    try {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(this.timeoutMs) });
      await response.body?.cancel();
      return response.ok ? null : `answered ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return `${(error as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (error as Error).message}${cause ? ` (${cause})` : ''}`;
    }
  }

  /** Stops retrying; events still waiting are logged as not delivered. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    for (const [url, queue] of this.queues) {
      if (queue.length > 0) this.logger.warn({ url, waiting: queue.length }, `rollout webhook ${url}: ${queue.length} events not delivered at shutdown`);
    }
  }
}
