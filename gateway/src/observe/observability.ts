import type { Logger } from 'pino';
import { startTracing, type Tracing } from '@mythoughts/runtime/tracing/setup';
import { AccessLog } from './accessLog.ts';
import { createGatewayLogger } from './logger.ts';
import { GatewayMetrics } from './metrics.ts';
import type { RequestCounters } from './requestCounters.ts';
import { RequestTracing } from './tracing.ts';

export interface ObservabilitySettings {
  readonly logger?: Logger;
  /** Node process metrics on /metrics (default true). */
  readonly defaultMetrics?: boolean;
  /** false: no per-request counter and histogram (GATEWAY_METRICS=off). */
  readonly requestMetrics?: boolean;
  /** unset or 'stdout' = through the logger; 'off' = none; else a file to append to. */
  readonly accessLog?: string;
  /** Default: from the OTEL_* variables (off when they are unset). */
  readonly tracing?: Tracing;
}

/** Logs, metrics, access log and traces of one gateway process, started together and flushed together. */
export class Observability {
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly tracing: Tracing;
  /** Null when tracing is off: the request path then does no tracing work at all. */
  readonly requestTracing: RequestTracing | null;
  readonly accessLog: AccessLog | null;
  readonly counters: RequestCounters | null;

  constructor(settings: ObservabilitySettings) {
    this.logger = settings.logger ?? createGatewayLogger();
    this.metrics = new GatewayMetrics({ defaultMetrics: settings.defaultMetrics ?? true });
    this.tracing = settings.tracing ?? startTracing('gateway', process.env);
    this.requestTracing = RequestTracing.of(this.tracing);
    this.accessLog =
      settings.accessLog === 'off'
        ? null
        : settings.accessLog && settings.accessLog !== 'stdout'
          ? AccessLog.toFile(settings.accessLog)
          : AccessLog.throughLogger(this.logger);
    this.counters = settings.requestMetrics === false ? null : this.metrics.counters;
  }

  /** The last requests' spans are exported before the process ends. */
  flushTraces(): Promise<void> {
    return this.tracing.shutdown();
  }

  /** The access log's last batch and the log's buffer. */
  close(): void {
    this.accessLog?.close();
    this.logger.flush();
  }
}
