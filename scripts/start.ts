// `npm start`: the whole system on the embedded default, one supervisor, prefixed logs.
// Prepares the SQLite database and dev keys once, then starts every process, waits until
// each answers its health check and prints the URLs. A process that dies is restarted with
// backoff while the others keep serving (supervisor.ts). Ctrl-C (or SIGTERM) stops them all.
import { runMain } from '@mythoughts/runtime/errors';
import { backendSpecs, gatewaySpec, hasGateway, port, prepareSystem, printUrls, runSupervised } from './system.ts';

async function main() {
  const system = await prepareSystem();
  const specs = [...backendSpecs(), ...(hasGateway() ? [gatewaySpec('gateway', port('GATEWAY_PORT', 8080), port('GATEWAY_ADMIN_PORT', 9901))] : [])];
  if (!(await runSupervised('npm start', [specs], system.childEnv))) return;
  process.stdout.write(`\nMyThoughts is up (${system.database}):\n`);
  printUrls(specs);
  const accessLog = system.childEnv.GATEWAY_ACCESS_LOG;
  if (accessLog !== 'stdout' && accessLog !== 'off')
    process.stdout.write(`Gateway access log: ${accessLog} (GATEWAY_ACCESS_LOG=stdout npm start shows it here).\n`);
  process.stdout.write('Demo users: bruce / password, stephen / password. Ctrl-C stops everything.\n\n');
}

runMain('npm start', main);
