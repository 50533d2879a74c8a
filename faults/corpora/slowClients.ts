import { request } from 'node:http';

/**
 * Clients that send their request body too slowly, as a client on a bad network or an attacker
 * holding connections does. The gateway must answer each with 408 on its own client-body
 * timeout (`timeouts.client_body_ms`) and never count it against the back end it was streaming
 * to: no upstream error, no ejection. One copy, shared by gateway/test/clientFaults.test.ts and
 * `npm run faults`.
 */
export interface SlowReply {
  readonly status: number;
  readonly body: string;
}

export type SlowClient = (url: string) => Promise<SlowReply>;

/**
 * Starts a form POST with `headers` (a form, so a real back end waits for the whole body before
 * answering), runs `feed` on it (which never ends the body), resolves with the answer.
 */
function slowPost(url: string, headers: Record<string, string>, feed: (write: (text: string) => boolean, answered: () => boolean) => void): Promise<SlowReply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }, (res) => {
      answered = true;
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode!, body });
      });
    });
    req.on('error', reject);
    feed(
      (text) => req.write(text),
      () => answered,
    );
  });
}

export const SLOW_CLIENTS: Readonly<Record<string, SlowClient>> = {
  /** A chunked body whose first chunk arrives and then nothing more. */
  'a body that stops after its first chunk': (url) =>
    slowPost(url, { 'transfer-encoding': 'chunked' }, (write) => write('text=the beginning of a body that never ends')),
  /** A Content-Length the client never lives up to. */
  'a body shorter than its Content-Length': (url) => slowPost(url, { 'content-length': '1000' }, (write) => write('text=forty bytes of a thousand promised..')),
  /** A body that keeps arriving, one byte every 100 ms, for longer than the timeout allows. */
  'a body trickled a byte every 100 ms': (url) =>
    slowPost(url, { 'transfer-encoding': 'chunked' }, (write, answered) => {
      const timer = setInterval(() => (answered() ? clearInterval(timer) : write('x')), 100);
      write('text=');
    }),
};
