/**
 * The engine's ceiling: a plain node:http server that streams every request through an
 * undici Pool (keep-alive) with `Pool.stream` — no routing, no cohorts, no logging, no
 * metrics. The gateway, which forwards on undici too, is compared with it (target ≥ 0.85×).
 *
 *   node --import tsx bench/bareUndici.ts <port> <target-origin>
 *
 * Started by the bench as a child process (so its CPU and RSS are measured like the
 * gateway's); binds 127.0.0.1 only and exits on SIGTERM.
 */
import http from 'node:http';
import { Pool, type Dispatcher } from 'undici';

const [portText, target] = process.argv.slice(2);
const port = Number(portText);
if (!Number.isInteger(port) || !target) {
  console.error('usage: node --import tsx bench/bareUndici.ts <port> <target-origin>');
  process.exit(2);
}

const pool = new Pool(target, { connections: 256, pipelining: 1, keepAliveTimeout: 4_000 });
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'proxy-connection']);

const server = http.createServer((req, res) => {
  const headers = req.headers;
  delete headers.connection;
  delete headers['keep-alive'];
  pool
    .stream(
      { path: req.url!, method: req.method as Dispatcher.HttpMethod, headers, body: req.method === 'GET' || req.method === 'HEAD' ? null : req },
      ({ statusCode, headers: upstream }) => {
        for (const name of Object.keys(upstream)) if (HOP_BY_HOP.has(name)) delete upstream[name];
        res.writeHead(statusCode, upstream as http.OutgoingHttpHeaders);
        return res;
      },
    )
    .catch(() => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway');
      else res.destroy();
    });
});
server.keepAliveTimeout = 300_000;
server.listen(port, '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void pool.destroy();
  process.exit(0);
});
