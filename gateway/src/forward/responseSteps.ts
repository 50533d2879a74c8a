import type { ServerResponse } from 'node:http';
import type { Backend } from '../config/routeTable.ts';
import type { Exchange } from '../exchange.ts';
import { hasHeader, stripResponseHopByHop } from './headers.ts';

/** Sees the body of the answer going to the client, chunk by chunk, without changing it. */
export interface BodyObserver {
  data(chunk: Buffer): void;
  end(): void;
  /** The body was cut (the back end died, or the client left): `reason` says which. */
  cut(reason: string): void;
}

/** The head of the back end's answer on its way to the client, for the response steps to shape. */
export interface ResponseHead {
  readonly backend: Backend;
  readonly status: number;
  readonly statusText: string;
  /** Flat `[name, value, name, value, …]`, names as the back end wrote them; steps may replace it. */
  headers: string[];
  readonly upstreamMs: number;
  /** Body observers added by steps; null when none (the usual case). */
  observers: BodyObserver[] | null;
}

/**
 * One small job on every answer before its head is written, in the manner of
 * node-http-proxy's web-outgoing passes. The forwarder runs the list it is given and knows
 * nothing of what the steps do (cohort cookies, shadow taps).
 */
export type ResponseStep = (head: ResponseHead, exchange: Exchange, res: ServerResponse) => void;

/** Hop-by-hop headers describe the back end's connection, not the answer. */
export const stripHopByHop: ResponseStep = (head) => {
  head.headers = stripResponseHopByHop(head.headers);
};

/** The request id the client and the back end saw, unless the back end answered with its own. */
export const addRequestId: ResponseStep = (head, exchange) => {
  if (!hasHeader(head.headers, 'x-request-id')) head.headers.push('x-request-id', exchange.requestId);
};

/** While shutting down, each answer closes its connection, so keep-alive clients move on. */
export function closeWhileDraining(draining: () => boolean): ResponseStep {
  return (head) => {
    if (draining()) head.headers.push('connection', 'close');
  };
}
