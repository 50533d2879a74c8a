/**
 * The fixed-cost backends: one nginx worker answering every path on two loopback ports,
 * "legacy" and "new", with a static ~200-byte JSON body that names the backend (so the bench
 * can check a proxy's split). Keep-alive lasts longer than any proxy's idle time.
 */
function backendBody(backend: string): string {
  const base = {
    backend,
    thoughts: [{ id: 1, username: 'bruce', text: 'A fixed-cost answer for the benchmark.', created_at: '2026-01-01T00:00:00Z' }],
    next: null,
    pad: '',
  };
  const length = JSON.stringify(base).length;
  return JSON.stringify({ ...base, pad: 'x'.repeat(Math.max(0, 200 - length)) });
}

export function backendHttpBlock(ports: { readonly legacy: number; readonly new: number }): string {
  const server = (name: string, port: number) => `
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    location / {
      default_type application/json;
      return 200 '${backendBody(name)}';
    }
  }`;
  return server('legacy', ports.legacy) + server('new', ports.new);
}
