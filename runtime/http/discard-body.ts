import type { IncomingMessage } from 'node:http';

/** How long a refused upload may keep the half-closed connection before it is cut. */
const LINGER_MS = 2_000;

/**
 * For a request already answered with `Connection: close` whose body is not wanted: at most
 * `maxBytes` of the body are read (and dropped), then the socket is destroyed.
 *
 * node:http ends such an exchange with `socket.destroySoon()` once the answer is flushed: a full
 * close while the client may still be sending, whose RST can wipe the answer from the client's
 * receive buffer before it is read (the "TCP reset problem" of RFC 9112 §9.6). This socket closes
 * in stages instead, as that section advises: FIN after the answer, then the body is read and
 * dropped until the client closes, `maxBytes` are in, or LINGER_MS pass.
 */
export function discardBodyUpTo(req: IncomingMessage, maxBytes: number): void {
  const socket = req.socket;
  let read = 0;
  req.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read >= maxBytes) socket.destroy();
  });
  socket.destroySoon = () => {
    socket.end();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
}
