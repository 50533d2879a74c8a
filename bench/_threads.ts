import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backendHttpBlock } from './backendNginxConfig.ts';
import { makeClients, makeJwtKeys } from './clients.ts';
import { startGatewayProcess } from './gatewayProcess.ts';
import { startNginx } from './nginx.ts';
import { freePort } from './processes.ts';
import { LOAD_PATH, writeGatewayRoutes } from './routesFile.ts';
import { startNodeProxy } from './stand.ts';
import { runWrk } from './wrk.ts';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'perf-thr-'));
const ports = { legacy: await freePort(), new: await freePort() };
const urls = { legacy: `http://127.0.0.1:${ports.legacy}`, new: `http://127.0.0.1:${ports.new}`, slow: 'http://127.0.0.1:9' };
const backends = await startNginx('b', tmp, backendHttpBlock(ports), ports.legacy);
const clients = makeClients(tmp, 'cookies', makeJwtKeys(tmp));
function threads(pid: number) { const m = new Map<string, number>(); for (const t of readdirSync(`/proc/${pid}/task`)) { const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8'); const comm = s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); m.set(`${t} ${comm}`, Number(f[11]) + Number(f[12])); } return m; }
const which = (process.argv[2] ?? 'gateway').split(',');
const extraEnv = JSON.parse(process.argv[3] ?? '{}');
const nodeArgs = process.argv[4] ? process.argv[4].split(' ') : [];
for (const w of which) {
  const server = w === 'gateway' ? await startGatewayProcess({ name: 'g', port: await freePort(), adminPort: await freePort(), routesFile: writeGatewayRoutes(tmp, urls, 'plan'), tmpDir: tmp, env: extraEnv, probePath: LOAD_PATH, nodeArgs }) : await startNodeProxy(w, w, tmp, urls, nodeArgs);
  const url = `http://127.0.0.1:${server.port}${LOAD_PATH}`;
  await runWrk(url, 50, 2, clients.headersFile);
  const a = threads(server.pid);
  const r = await runWrk(url, Number(process.env.C ?? 50), Number(process.env.D ?? 5), clients.headersFile);
  const b = threads(server.pid);
  console.log(w, Math.round(r.requestsPerSecond), 'req/s', 'p99', r.p99Ms, 'timeouts', r.timeouts);
  let tot = 0;
  for (const [k, v] of b) { const d = v - (a.get(k) ?? 0); tot += d; if (d > 0) console.log('  ', k.padEnd(30), ((d * 1e4) / r.requests).toFixed(1), 'µs/req'); }
  console.log('   total', ((tot * 1e4) / r.requests).toFixed(1), 'µs/req');
  await server.stop();
}
await backends.stop();
