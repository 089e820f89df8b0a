import type { IncomingMessage } from 'node:http';

export type BodyResult = { kind: 'ok'; text: string } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * Reads the body up to `maxBytes`. Past the limit the rest is read and thrown away rather than
 * left unread, so the client finishes its upload and sees the 413 instead of a reset
 * connection; past a few times the limit reading stops and the caller answers 413 on a
 * connection that then closes (`Connection: close`), taking the unread rest with it.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = Number(req.headers['content-length']);
  const drainLimit = maxBytes * 4;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > maxBytes;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (tooLarge || size > maxBytes) {
        tooLarge = true;
        chunks.length = 0;
        if (size > drainLimit) {
          req.pause();
          req.removeAllListeners('data');
          settle({ kind: 'too-large' });
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return settle({ kind: 'too-large' });
      const first = chunks[0];
      const text = chunks.length === 1 && first !== undefined ? first.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
      settle({ kind: 'ok', text });
    });
    req.on('error', () => settle({ kind: 'aborted' }));
    req.on('close', () => settle({ kind: 'aborted' }));
  });
}
