import http from 'node:http';

/**
 * The slow backend that shadow copies go to: answers every request after a fixed delay
 * (default 50 ms), so a shadow that waited for it, or held the client's response, would show
 * in the client's latency. Runs inside the bench process; loopback only.
 */
export function startSlowBackend(port: number, delayMs = 50): Promise<{ stop(): Promise<void>; requests(): number }> {
  let count = 0;
  const body = JSON.stringify({ backend: 'slow', delayed_ms: delayMs });
  const server = http.createServer((req, res) => {
    count++;
    req.resume();
    const timer = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    }, delayMs);
    res.on('close', () => clearTimeout(timer));
  });
  server.keepAliveTimeout = 300_000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        requests: () => count,
        stop: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      }),
    );
  });
}
