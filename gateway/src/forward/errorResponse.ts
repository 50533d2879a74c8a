import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The gateway's own answers are JSON `{"message": …}` like the back ends' errors, and carry
 * the request id so a user's report can be found in the logs. If part of a response has
 * already gone out, a status can no longer be sent: the connection is cut instead, which
 * the client sees as an incomplete response rather than a silently truncated success.
 */
export function sendJsonError(res: ServerResponse, status: number, message: string, requestId: string, closeConnection = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ message });
  const headers: Record<string, string | number> = {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-request-id': requestId,
  };
  if (closeConnection) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * The same JSON error written on a bare socket (a malformed request, a refused WebSocket
 * upgrade: there is no ServerResponse), then the connection closed.
 */
export function sendSocketError(socket: Duplex, status: number, message: string, requestId: string | null): void {
  if (!socket.writable) return void socket.destroy();
  const body = JSON.stringify({ message });
  const id = requestId === null ? '' : `x-request-id: ${requestId}\r\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\ncache-control: no-store\r\n${id}connection: close\r\n\r\n${body}`,
  );
}
