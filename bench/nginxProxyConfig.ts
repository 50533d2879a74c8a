import type { Document } from 'yaml';

/**
 * The reference proxy: nginx configured from the bench's routes file — one regex location per
 * route in file order (first match wins, case-insensitive, trailing slash optional, as the
 * gateway matches), deny routes answered by nginx, and each split decided per client by
 * `split_clients` over the cohort cookies, to upstreams with keep-alive connections.
 * Approximations: `methods`/`headers` conditions are not expressed (nginx locations cannot
 * fall through to the next one; the measured requests are GETs the gateway routes the same
 * way), and `jwt:username` cohort keys are not read.
 */
interface PlanRoute {
  name: string;
  match: { path: string | string[] };
  split?: Record<string, number>;
  deny?: number;
}

interface Plan {
  backends: Record<string, { legacy?: boolean }>;
  routes: PlanRoute[];
}

export function nginxProxyHttpBlock(routesDoc: Document, listenPort: number, origins: Record<string, string>, accessLog: string): string {
  const plan = routesDoc.toJS() as Plan;
  const legacy = Object.entries(plan.backends).find(([, b]) => b.legacy)?.[0] ?? 'legacy';
  const upstreams = Object.keys(plan.backends)
    .filter((name) => origins[name])
    .map(
      (name) =>
        `  upstream ${name} {\n    server ${new URL(origins[name]!).host};\n    keepalive 128;\n    keepalive_requests 100000000;\n    keepalive_timeout 300s;\n  }`,
    );
  const splits: string[] = [];
  const locations = plan.routes.map((route) => {
    const regex = routeRegex(route.match.path);
    let action: string;
    if (route.deny !== undefined) {
      action = `return ${route.deny};`;
    } else {
      const shares = Object.entries(route.split ?? {}).filter(([name, percent]) => name !== legacy && percent > 0);
      const newTotal = shares.reduce((sum, [, percent]) => sum + percent, 0);
      if (shares.length === 0) {
        action = `proxy_pass http://${legacy};`;
      } else if (shares.length === 1 && newTotal >= 100) {
        action = `proxy_pass http://${shares[0]![0]};`;
      } else {
        const variable = `$split_${route.name.replace(/[^a-z0-9_]/g, '_')}`;
        const lines = shares.map(([name, percent]) => `    ${percent}% ${name};`);
        splits.push(`  split_clients "\${cookie_session}\${cookie_gw_cohort}" ${variable} {\n${lines.join('\n')}\n    * ${legacy};\n  }`);
        action = `proxy_pass http://${variable};`;
      }
    }
    return `    location ~* ${regex} {  # ${route.name}\n      ${action}\n    }`;
  });
  return `  access_log ${accessLog} combined buffer=64k flush=1s;
${upstreams.join('\n')}
${splits.join('\n')}
  server {
    listen 127.0.0.1:${listenPort} reuseport backlog=4096;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Request-Id $request_id;
${locations.join('\n')}
  }`;
}

/** `/api/thoughts/**` → `"^/api/thoughts(?:/.*)?/?$"`, several patterns joined by `|`. */
function routeRegex(paths: string | string[]): string {
  const alternatives = (Array.isArray(paths) ? paths : [paths]).map((text) => {
    const parts = text.slice(1).split('/');
    if (parts[parts.length - 1] === '') parts.pop();
    let regex = '';
    for (const part of parts) {
      if (part === '**') regex += '(?:/.*)?';
      else if (part === '*') regex += '/[^/]+';
      else regex += '/' + part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
    return `${regex === '' ? '' : regex}/?`;
  });
  const body = alternatives.length === 1 ? alternatives[0]! : `(?:${alternatives.join('|')})`;
  return `"^${body}$"`;
}
