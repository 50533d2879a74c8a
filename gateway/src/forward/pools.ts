import { Pool } from 'undici';
import type { Backend } from '../config/routeTable.ts';

/**
 * One undici Pool (keep-alive connections) per back-end origin, kept across reloads so a new
 * plan reuses the warm connections. Idle connections close after 4 s, before the back ends'
 * own 5 s keep-alive timeout (Node's default), and a back end's `Keep-Alive: timeout=N` hint
 * is honoured less a second, so the gateway never writes to a connection being closed.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  get(backend: Backend): Pool {
    // The connect timeout is a pool setting: back ends sharing an origin with different ones get their own pool.
    const key = `${backend.origin} ${backend.connectTimeoutMs}`;
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new Pool(backend.origin, {
        connections: 256,
        pipelining: 1,
        keepAliveTimeout: 4_000,
        keepAliveMaxTimeout: 4_000,
        keepAliveTimeoutThreshold: 1_000,
        connect: { timeout: backend.connectTimeoutMs, noDelay: true },
        // The forwarder times the answer itself, from the end of the request body (attempt.ts).
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      this.pools.set(key, pool);
    }
    return pool;
  }

  /** Cuts every connection (shutdown, after in-flight requests had their chance). */
  async destroyAll(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => pool.destroy()));
  }
}
