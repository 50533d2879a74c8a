import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxyServer } from 'http-proxy-3';
import type { Backend } from '../config/routeTable.ts';

/** What came of one WebSocket upgrade, for the caller's metrics and log. */
export interface WebSocketEvents {
  /** The back end answered 101: the two sockets are now piped to each other. */
  opened(): void;
  /** The back end answered with a plain HTTP response (relayed to the client, then closed). */
  refused(status: number): void;
  /** No connection, or it broke before the upgrade. */
  failed(error: Error): void;
  /** The client's socket closed, for whatever reason, after any of the above. */
  closed(): void;
}

/**
 * WebSocket upgrades, proxied by http-proxy-3's `ws` support: it sends the handshake to the
 * back end, relays its `101 Switching Protocols` and then pipes the two sockets to each
 * other, byte for byte, for as long as they live. Plain HTTP goes through undici (attempt.ts):
 * this is the one job http-proxy-3 still does here, and it does it well. An open socket
 * belongs to no plan: a reload never touches it; shutdown ends the ones still open.
 */
export class WebSocketForwarder {
  private readonly proxy = createProxyServer({ ws: true, xfwd: false, prependPath: false });
  private readonly open = new Set<Duplex>();
  private readonly targets = new WeakMap<Backend, URL>();

  constructor() {
    // Errors arrive through each upgrade's callback; this listener only keeps a stray
    // library-level error from crashing the process (http-proxy throws without one).
    this.proxy.on('error', () => undefined);
    // The handshake's own request: its `upgrade` is the 101, a `response` a plain answer.
    this.proxy.on('proxyReqWs', (proxyReq, req) => {
      const state = UPGRADES.get(req);
      if (state === undefined) return;
      proxyReq.once('upgrade', () => {
        state.upgraded = true;
        state.events.opened();
      });
      proxyReq.once('response', (proxyRes: IncomingMessage) => {
        state.upgraded = true; // answered: what follows is not a connection failure
        state.events.refused(proxyRes.statusCode ?? 502);
      });
    });
  }

  /** `req.headers` are the ones to send (prepared, with `connection: upgrade` and `upgrade: websocket`). */
  forward(req: IncomingMessage, socket: Duplex, head: Buffer, backend: Backend, events: WebSocketEvents): void {
    let target = this.targets.get(backend);
    if (target === undefined) this.targets.set(backend, (target = new URL(backend.origin)));
    const state = { events, upgraded: false };
    UPGRADES.set(req, state);
    this.open.add(socket);
    socket.once('close', () => {
      this.open.delete(socket);
      events.closed();
    });
    this.proxy.ws(req, socket, head, { target }, (error) => {
      // After the upgrade an error is just the end of the connection (closed() reports it).
      if (!state.upgraded) events.failed(error as Error);
    });
  }

  /** Ends every WebSocket still open (shutdown: its clients reconnect, to another replica). */
  closeAll(): void {
    for (const socket of this.open) socket.destroy();
    this.open.clear();
  }
}

const UPGRADES = new WeakMap<IncomingMessage, { readonly events: WebSocketEvents; upgraded: boolean }>();
