import type { NextFunction, Request, Response } from 'express';
import { ConfigError } from '@mythoughts/runtime/errors';

/** The admin port's listener settings that decide who may talk to it. */
export interface AdminExposure {
  readonly adminHost?: string;
  readonly adminToken?: string | null;
  /** GATEWAY_ADMIN_HOSTS: further `name[:port]` a client may use as Host (only with a token). */
  readonly adminHosts?: readonly string[];
}

/**
 * Refuses admin settings that would leave the port open: a non-loopback listener without a
 * token, or extra Host names without one (without a token the port is safe only while it
 * answers nothing but its own loopback names). Run before anything listens or forks.
 */
export function checkAdminExposure(options: AdminExposure): void {
  const host = options.adminHost ?? '127.0.0.1';
  const token = options.adminToken || null;
  if (!isLoopback(host) && token === null) {
    throw new ConfigError(`the admin port would listen on ${host} without a token: set GATEWAY_ADMIN_TOKEN, or leave GATEWAY_ADMIN_HOST unset (127.0.0.1)`);
  }
  if ((options.adminHosts ?? []).length > 0 && token === null) {
    throw new ConfigError(
      'GATEWAY_ADMIN_HOSTS needs GATEWAY_ADMIN_TOKEN: without a token the admin port answers only its own loopback names (127.0.0.1, localhost, [::1])',
    );
  }
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

/**
 * DNS rebinding: a web page whose name is made to resolve to 127.0.0.1 reaches the admin
 * port from the operator's browser, as its own origin, so neither CORS nor the same-origin
 * rule stops it — but the browser still sends the page's name as Host. So every request
 * except the probes must name the port as its own loopback address (127.0.0.1:PORT,
 * localhost:PORT, [::1]:PORT) or, with a token, one of GATEWAY_ADMIN_HOSTS; and a browser's
 * Origin, reads included, must be one of those same names over http. Both lists are fixed
 * when the port listens: nothing the request says widens them.
 */
export class AdminHostPolicy {
  private hosts = new Set<string>();

  constructor(private readonly configured: readonly string[]) {}

  /** Fixes the allowed names once the port is known (port 0 in tests picks one). */
  listeningOn(listenHost: string, port: number): void {
    const names = ['127.0.0.1', 'localhost', '[::1]'];
    if (!isLoopback(listenHost) && listenHost !== '0.0.0.0' && listenHost !== '::') names.push(listenHost.includes(':') ? `[${listenHost}]` : listenHost);
    const hosts = names.flatMap((name) => (port === 80 ? [`${name}:80`, name] : [`${name}:${port}`]));
    for (const entry of this.configured) {
      const name = entry.toLowerCase();
      hosts.push(/:\d+$/.test(name) ? name : `${name}:${port}`);
      if (port === 80 && !/:\d+$/.test(name)) hosts.push(name);
    }
    this.hosts = new Set(hosts);
  }

  /** Express middleware: 421 for a Host that is not this port, 403 for a foreign Origin. */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (!this.hosts.has(host)) {
      res.status(421).json({
        status: 421,
        message: `Host '${req.headers.host ?? ''}' is not this admin port: use ${this.example()} (allowed: ${[...this.hosts].join(', ')}; more names with GATEWAY_ADMIN_HOSTS and a token)`,
      });
      return;
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.hosts.has(origin.toLowerCase().replace(/^http:\/\//, ''))) {
      res
        .status(403)
        .json({ status: 403, message: `cross-origin request from ${origin} refused: use the dashboard on this port (${this.example()}), the CLI or curl` });
      return;
    }
    next();
  };

  private example(): string {
    return `http://${[...this.hosts][0] ?? '127.0.0.1'}/`;
  }
}
