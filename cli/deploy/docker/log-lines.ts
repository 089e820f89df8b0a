import { PassThrough, type Readable } from 'node:stream';
import type Docker from 'dockerode';

/**
 * Log streams of the Engine API, for containers (GET /containers/{id}/logs) and swarm services
 * (GET /services/{id}/logs) alike: without a TTY the engine frames stdout and stderr on one
 * stream (the modem's demuxStream splits them); these cut them into lines.
 */

/**
 * Gathers what `read` emits and passes it on in time order once `read` is done (`gather`), or
 * passes each line on as it comes. The sort is stable: lines of one stream keep their order
 * when stamps are equal.
 */
export async function inTimeOrder<L extends { time: string }>(
  gather: boolean,
  onLine: (line: L) => void,
  read: (emit: (line: L) => void) => Promise<unknown>,
): Promise<void> {
  if (!gather) {
    await read(onLine);
    return;
  }
  const collected: L[] = [];
  await read((line) => void collected.push(line));
  collected.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  for (const line of collected) onLine(line);
}

/** Splits one demultiplexed log stream into lines of stdout and stderr; resolves once both are drained (or the signal aborts). */
export function demuxLines(
  docker: Docker,
  source: NodeJS.ReadableStream,
  onLine: (stream: 'stdout' | 'stderr', text: string) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const out = new PassThrough();
    const err = new PassThrough();
    const pending = { stdout: '', stderr: '' };
    const take = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      pending[stream] += chunk.toString('utf8');
      let at: number;
      while ((at = pending[stream].indexOf('\n')) !== -1) {
        onLine(stream, pending[stream].slice(0, at).replace(/\r$/, ''));
        pending[stream] = pending[stream].slice(at + 1);
      }
    };
    out.on('data', take('stdout'));
    err.on('data', take('stderr'));
    // Lines are flushed once both halves have drained what demuxStream wrote into them.
    let ended = 0;
    const drained = (): void => {
      if (++ended < 2) return;
      for (const stream of ['stdout', 'stderr'] as const) if (pending[stream] !== '') onLine(stream, pending[stream]);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    out.on('end', drained);
    err.on('end', drained);
    let closed = false;
    const close = (): void => {
      if (closed) return;
      closed = true;
      out.end();
      err.end();
    };
    const stop = (): void => {
      (source as Readable).destroy?.();
      close();
    };
    if (signal?.aborted) return stop();
    signal?.addEventListener('abort', stop, { once: true });
    docker.modem.demuxStream(source, out, err);
    source.on('end', close);
    source.on('close', close);
    source.on('error', close);
  });
}

/** `2024-05-01T10:00:00.123456789Z text` -> its parts (the engine's `timestamps` option). */
export function splitTimestamp(raw: string): { time: string; text: string } {
  const match = /^(\d{4}-\d\d-\d\dT[0-9:.]+Z) (.*)$/s.exec(raw);
  return match ? { time: match[1]!, text: match[2]! } : { time: '', text: raw };
}
