#!/usr/bin/env node
// Docker HEALTHCHECK: GET the process's /healthz on loopback with node's fetch (no curl in
// the slim image). Exit 0 when it answers 2xx within 3 s, 1 otherwise.
import { healthUrl } from './processes.mjs';

const url = healthUrl(process.env.SERVICE);
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (!response.ok) {
    process.stderr.write(`${url} answered ${response.status}\n`);
    process.exit(1);
  }
} catch (error) {
  process.stderr.write(`${url}: ${error.cause?.code ?? error.message}\n`);
  process.exit(1);
}
