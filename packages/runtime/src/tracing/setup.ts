import { context, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { parseKeyPairsIntoRecord, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { envFlag } from '../env.ts';
import { ConfigError } from '../errors.ts';

/**
 * A process's tracing: an OpenTelemetry tracer exporting over OTLP/HTTP, or nothing at all.
 * `tracer` is null when tracing is off, so instrumented code pays one null check and the SDK
 * is never even constructed.
 */
export interface Tracing {
  readonly tracer: Tracer | null;
  /** W3C Trace Context (`traceparent`, `tracestate`): what every process here speaks. */
  readonly propagator: TextMapPropagator;
  /** Where spans go (for the start-up log line), or null when off. */
  readonly endpoint: string | null;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

export interface TracingSettings {
  readonly serviceName: string;
  /** The full OTLP/HTTP traces URL, e.g. http://jaeger:4318/v1/traces. */
  readonly endpoint: string;
  readonly sampler: Sampler;
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

const propagator = new W3CTraceContextPropagator();

export const TRACING_OFF: Tracing = { tracer: null, propagator, endpoint: null, shutdown: async () => undefined };

/**
 * Tracing as the standard OTEL_* variables ask. It is on only when an endpoint is set
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_EXPORTER_OTLP_ENDPOINT) and neither
 * OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none says otherwise; `serviceName` is the
 * default of OTEL_SERVICE_NAME. A value that cannot work is a ConfigError naming it.
 */
export function startTracing(serviceName: string, env: NodeJS.ProcessEnv = process.env): Tracing {
  const settings = tracingSettings(serviceName, env);
  if (settings === null) return TRACING_OFF;
  // One context manager per process, shared by every provider in it: the one that lets a
  // database span find the request span it belongs to across awaits.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...settings.resourceAttributes, [ATTR_SERVICE_NAME]: settings.serviceName })),
    sampler: settings.sampler,
    // Batched, off the request path; OTEL_BSP_* tune it. Always JSON over HTTP (the
    // exporter this build ships), which every OTLP receiver accepts on its HTTP port.
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: settings.endpoint }))],
  });
  return {
    tracer: provider.getTracer('mythoughts'),
    propagator,
    endpoint: settings.endpoint,
    shutdown: () => provider.shutdown(),
  };
}

/** The settings tracing would run with, or null when it is off. */
export function tracingSettings(serviceName: string, env: NodeJS.ProcessEnv): TracingSettings | null {
  if (envFlag(env, 'OTEL_SDK_DISABLED', false)) return null;
  const exporter = (env.OTEL_TRACES_EXPORTER ?? '').trim().toLowerCase();
  if (exporter === 'none') return null;
  if (exporter !== '' && exporter !== 'otlp') {
    throw new ConfigError(`OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER} is not supported: use otlp (the default) or none`);
  }
  const endpoint = tracesEndpoint(env);
  if (endpoint === null) return null;
  const protocolVariable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  if ((env[protocolVariable] ?? '').trim() === 'grpc') {
    throw new ConfigError(
      `${protocolVariable}=grpc is not supported: spans are sent as OTLP/HTTP (JSON); point the endpoint at the receiver's HTTP port (4318) and set http/json`,
    );
  }
  return {
    serviceName: env.OTEL_SERVICE_NAME?.trim() || serviceName,
    endpoint,
    sampler: samplerFrom(env),
    resourceAttributes: parseKeyPairsIntoRecord(env.OTEL_RESOURCE_ATTRIBUTES ?? ''),
  };
}

/** The signal-specific variable is the URL itself; the general one is a base that gets /v1/traces. */
function tracesEndpoint(env: NodeJS.ProcessEnv): string | null {
  const specific = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (specific) return httpUrl(specific, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT').href;
  if (base) return `${httpUrl(base, 'OTEL_EXPORTER_OTLP_ENDPOINT').href.replace(/\/+$/, '')}/v1/traces`;
  return null;
}

function httpUrl(text: string, variable: string): URL {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ConfigError(`${variable}=${text} is not an http(s) URL (e.g. http://jaeger:4318)`);
  }
  return url;
}

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'];

/** OTEL_TRACES_SAMPLER[_ARG], default parentbased_always_on: follow the caller's decision, else sample all. */
function samplerFrom(env: NodeJS.ProcessEnv): Sampler {
  const name = (env.OTEL_TRACES_SAMPLER ?? '').trim().toLowerCase() || 'parentbased_always_on';
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratioFrom(env));
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratioFrom(env)) });
    default:
      throw new ConfigError(`OTEL_TRACES_SAMPLER=${env.OTEL_TRACES_SAMPLER} is not a sampler: use one of ${SAMPLERS.join(', ')}`);
  }
}

function ratioFrom(env: NodeJS.ProcessEnv): number {
  const text = (env.OTEL_TRACES_SAMPLER_ARG ?? '').trim();
  if (text === '') return 1;
  const ratio = Number(text);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new ConfigError(`OTEL_TRACES_SAMPLER_ARG=${text} must be a probability from 0 to 1 (e.g. 0.1 samples one trace in ten)`);
  }
  return ratio;
}
