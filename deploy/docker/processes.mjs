#!/usr/bin/env node
// The four MyThoughts processes as the container image knows them: which entry file runs,
// which variable sets its port, and where its liveness endpoint is. One table for the
// entrypoint (`node processes.mjs entry gateway`), the HEALTHCHECK and the deploy tests.
// Plain JavaScript without imports, so it runs before tsx is loaded.

/** @type {Record<string, {entry: string[], portVariable: string, defaultPort: number, healthPath: string, host?: string}>} */
export const PROCESSES = {
  gateway: {
    entry: ['gateway/src/cli.ts', 'serve'],
    // The container is healthy when the admin port answers: the public port has no health route.
    portVariable: 'GATEWAY_ADMIN_PORT',
    defaultPort: 9901,
    healthPath: '/healthz',
  },
  'legacy-monolith': { entry: ['legacy-monolith/src/main.ts'], portVariable: 'LEGACY_PORT', defaultPort: 8001, healthPath: '/healthz' },
  users: { entry: ['services/users/src/main.ts'], portVariable: 'USERS_PORT', defaultPort: 8002, healthPath: '/healthz' },
  thoughts: { entry: ['services/thoughts/src/main.ts'], portVariable: 'THOUGHTS_PORT', defaultPort: 8003, healthPath: '/healthz' },
};

/** The process named by SERVICE, or an Error naming the allowed values. */
export function processFor(service) {
  const spec = Object.hasOwn(PROCESSES, service ?? '') ? PROCESSES[service] : undefined;
  if (!spec) throw new Error(`SERVICE must be one of ${Object.keys(PROCESSES).join(', ')} (got "${service ?? ''}")`);
  return spec;
}

/** http://127.0.0.1:<port><healthPath> for the process, with the port the environment gives it. */
export function healthUrl(service, env = process.env) {
  const spec = processFor(service);
  const port = env[spec.portVariable] || String(spec.defaultPort);
  return `http://127.0.0.1:${port}${spec.healthPath}`;
}

// CLI: `node processes.mjs entry <service>` prints the entry arguments (for entrypoint.sh);
// `node processes.mjs health-url <service>` prints the health URL.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const [command, service] = process.argv.slice(2);
  try {
    if (command === 'entry') process.stdout.write(`${processFor(service).entry.join(' ')}\n`);
    else if (command === 'health-url') process.stdout.write(`${healthUrl(service)}\n`);
    else throw new Error('usage: processes.mjs entry|health-url <service>');
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(64);
  }
}
