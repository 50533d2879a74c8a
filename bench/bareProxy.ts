/**
 * The library's ceiling: a plain node:http server that hands every request to http-proxy-3
 * with a keep-alive agent — no routing, no cohorts, no logging, no metrics. The gateway's
 * throughput is compared with this process's (target: ≥ 0.9×).
 *
 *   node --import tsx bench/bareProxy.ts <port> <target-origin>
 *
 * Started by the bench as a child process (so its CPU and RSS are measured like the
 * gateway's); binds 127.0.0.1 only and exits on SIGTERM.
 */
import http from 'node:http';
import { createProxyServer } from 'http-proxy-3';

const [portText, target] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || !target) {
  console.error('usage: node --import tsx bench/bareProxy.ts <port> <target-origin>');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 256, scheduling: 'lifo' });
const proxy = createProxyServer({ target, agent });
proxy.on('error', (_error, _req, res) => {
  if (res instanceof http.ServerResponse && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway');
  } else {
    res.destroy();
  }
});

const server = http.createServer((req, res) => proxy.web(req, res));
server.keepAliveTimeout = 300_000;
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  agent.destroy();
  process.exit(0);
});
