import type { IncomingMessage } from 'node:http';

export type BodyPlan = { readonly kind: 'none' } | { readonly kind: 'buffer'; readonly length: number } | { readonly kind: 'stream' };

/**
 * Whether a request body can be kept for a replay. Only a body whose length is declared and
 * under the cap is buffered; a chunked or large body is streamed to the back end as it
 * arrives (and the request then cannot be replayed).
 */
export function planBody(req: IncomingMessage, maxBodyBytes: number, replayWanted: boolean): BodyPlan {
  const declared = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (!chunked && (declared === undefined || declared === '0')) return { kind: 'none' };
  const length = declared === undefined ? NaN : Number(declared);
  if (replayWanted && !chunked && Number.isSafeInteger(length) && length <= maxBodyBytes) return { kind: 'buffer', length };
  return { kind: 'stream' };
}

/** Reads the whole body (its length was checked against the cap); null if the client went away. */
export function readBody(req: IncomingMessage, length: number): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= length) chunks.push(chunk);
    });
    req.once('end', () => resolve(received === length ? Buffer.concat(chunks, length) : null));
    // The client aborting (or timed out, see clientBody.ts) is not the gateway's failure: the caller sees null and stops.
    req.once('error', () => resolve(null));
    req.once('close', () => resolve(null));
  });
}
