import { SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import { ATTR_DB_COLLECTION_NAME, ATTR_DB_OPERATION_NAME, ATTR_DB_QUERY_TEXT, ATTR_DB_SYSTEM_NAME, ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { LogEvent, Logger } from 'kysely';

// `db.system.name` values of the database semantic conventions.
const SYSTEM_NAME = { sqlite: 'sqlite', postgres: 'postgresql' } as const;

/**
 * A client span per database query, as Kysely's `log` hook: Kysely calls it after every
 * query, failed ones included, with the compiled SQL and the measured duration, in the
 * context of the code that ran the query. (A plugin's transformResult is never called for a
 * failed query, so its span would never end.) Only queries made for a traced request get a
 * span — start-up migrations and probes do not — and the SQL text carries placeholders,
 * never the parameters.
 */
export function traceQueries(tracer: Tracer, dialect: keyof typeof SYSTEM_NAME): Logger {
  const system = SYSTEM_NAME[dialect];
  return (event: LogEvent) => {
    const parent = trace.getActiveSpan();
    if (parent === undefined || !parent.isRecording()) return;
    const endTime = Date.now();
    const sql = event.query.sql;
    const operation = /^\s*([a-z]+)/i.exec(sql)?.[1]?.toUpperCase() ?? '';
    // Kysely's builder quotes table names, the monolith's hand-written SQL does not.
    const table = /\b(?:from|into|update)\s+"?(\w+)"?/i.exec(sql)?.[1];
    // Named `{operation} {table}` as the conventions ask, or less when the SQL does not say.
    const span = tracer.startSpan([operation, table].filter(Boolean).join(' ') || system, {
      kind: SpanKind.CLIENT,
      startTime: endTime - event.queryDurationMillis,
      attributes: { [ATTR_DB_SYSTEM_NAME]: system, [ATTR_DB_QUERY_TEXT]: sql },
    });
    if (operation !== '') span.setAttribute(ATTR_DB_OPERATION_NAME, operation);
    if (table !== undefined) span.setAttribute(ATTR_DB_COLLECTION_NAME, table);
    if (event.level === 'error') {
      span.setAttribute(ATTR_ERROR_TYPE, (event.error as Error)?.name ?? 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR, message: (event.error as Error)?.message });
    }
    span.end(endTime);
  };
}
