import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { ProcessMetrics } from '../rollout/localGateReader.ts';
import { isMessage } from './clusterMessages.ts';

// The messages between primary and workers over the cluster channel (our own, so the primary
// can ask each worker alone: the rollout's gates difference every worker on its own).
const READY = 'gateway:metrics-ready';
const ASK = 'gateway:metrics-ask';
const ANSWER = 'gateway:metrics-answer';

interface Ask {
  readonly type: typeof ASK;
  readonly id: number;
}
interface Answer {
  readonly type: typeof ANSWER;
  readonly id: number;
  readonly metrics?: ProcessMetrics;
  readonly error?: string;
}

/**
 * In a cluster worker: answers the primary's metric requests with this worker's registry
 * (the gateway's own, not prom-client's global one), then tells the primary it may ask.
 */
export function serveMetricsToPrimary(registry: Registry): void {
  process.on('message', (message: unknown) => {
    if (!isMessage<Ask>(message, ASK)) return;
    registry.getMetricsAsJSON().then(
      (metrics) => process.send!({ type: ANSWER, id: message.id, metrics } satisfies Answer),
      (error: Error) => process.send!({ type: ANSWER, id: message.id, error: error.message } satisfies Answer),
    );
  });
  process.send!({ type: READY });
}

/**
 * In the cluster primary: the metrics of every worker that serves them. /metrics sums them
 * (prom-client's aggregation: counters and histograms summed, a metric's own aggregator such as
 * `max` kept) together with the primary's own registry (the rollout's series); the rollout's
 * gates read each worker on its own, by pid, so a replaced worker counting from zero again is
 * no drop in a total.
 */
export class WorkerMetrics {
  /** Workers that said they answer, by cluster id: one forked but not started yet has served nothing. */
  private readonly serving = new Map<number, Worker>();
  /** Open questions by message id: the worker asked, and how to settle it (with its answer, or why there is none). */
  private readonly waiting = new Map<number, { readonly workerId: number; settle(answer: Answer | string): void }>();
  private nextId = 0;
  readonly contentType: string;

  constructor(
    private readonly own: Registry,
    private readonly logger: Logger,
    private readonly timeoutMs = 5_000,
  ) {
    this.contentType = own.contentType;
    cluster.on('message', (worker, message: unknown) => {
      if (isMessage<{ type: typeof READY }>(message, READY)) this.serving.set(worker.id, worker);
      else if (isMessage<Answer>(message, ANSWER)) this.waiting.get(message.id)?.settle(message);
    });
    cluster.on('exit', (worker, code, signal) => {
      this.serving.delete(worker.id);
      for (const question of [...this.waiting.values()].filter((q) => q.workerId === worker.id)) question.settle(`it exited (${signal ?? code})`);
    });
  }

  /** Each serving worker's metrics by its pid, or why it sent none (no answer in time, an error). */
  async byWorker(): Promise<Map<string, ProcessMetrics | string>> {
    const workers = [...this.serving.values()];
    const answers = await Promise.all(workers.map((worker) => this.ask(worker)));
    return new Map(workers.map((worker, i) => [String(worker.process.pid), answers[i]!]));
  }

  /** For the rollout's gates: a worker that sent nothing is null (its share of the interval is unknown), and logged. */
  async forGates(): Promise<Map<string, ProcessMetrics | null>> {
    const answers = await this.byWorker();
    for (const [pid, answer] of answers) if (typeof answer === 'string') this.logger.warn({ workerPid: pid }, `rollout gates without worker ${pid}: ${answer}`);
    return new Map([...answers].map(([pid, answer]) => [pid, typeof answer === 'string' ? null : answer]));
  }

  /** /metrics of the cluster. Refused when a worker sends nothing: to Prometheus a sum short of one worker looks like a counter reset. */
  async metrics(): Promise<string> {
    const answers = await this.byWorker();
    const missing = [...answers].filter(([, answer]) => typeof answer === 'string').map(([pid, why]) => `worker ${pid}: ${String(why)}`);
    if (missing.length > 0) throw new Error(`cannot sum the workers' metrics (${missing.join('; ')})`);
    const all = [...(answers.values() as Iterable<ProcessMetrics>), await this.own.getMetricsAsJSON()];
    return AggregatorRegistry.aggregate(all).metrics();
  }

  private ask(worker: Worker): Promise<ProcessMetrics | string> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const done = (result: ProcessMetrics | string) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(result);
      };
      const timer = setTimeout(() => done(`no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      const settle = (answer: Answer | string) =>
        done(typeof answer === 'string' ? answer : (answer.metrics ?? `its registry failed: ${answer.error ?? 'no reason given'}`));
      this.waiting.set(id, { workerId: worker.id, settle });
      worker.send({ type: ASK, id } satisfies Ask, (error: Error | null) => error && done(`cannot reach it (${error.message})`));
    });
  }
}
