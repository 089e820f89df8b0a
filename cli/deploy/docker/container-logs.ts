import { PassThrough, Readable } from 'node:stream';
import type Docker from 'dockerode';

export interface LogLine {
  service: string;
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as the engine stamps it; '' when absent. */
  time: string;
  text: string;
}

export interface FollowLogsOptions {
  follow: boolean;
  /** Lines per container from the end; undefined = all. */
  tail?: number;
  signal?: AbortSignal;
}

/**
 * The logs of several containers, demultiplexed (a container without a TTY sends stdout and
 * stderr framed on one stream; the modem's demuxStream splits them) and cut into lines. Without
 * `follow` the lines of all containers are merged in time order; with it they are passed on as
 * they arrive until every stream ends or the signal aborts.
 */
export async function containerLogs(
  docker: Docker,
  containers: ReadonlyArray<{ id: string; service: string }>,
  options: FollowLogsOptions,
  onLine: (line: LogLine) => void,
): Promise<void> {
  const collected: LogLine[] = [];
  const emit = options.follow ? onLine : (line: LogLine) => void collected.push(line);
  await Promise.all(
    containers.map(async ({ id, service }) => {
      const container = docker.getContainer(id);
      const base = { stdout: true, stderr: true, timestamps: true, ...(options.tail === undefined ? {} : { tail: options.tail }) } as const;
      const source: NodeJS.ReadableStream = options.follow
        ? await container.logs({ ...base, follow: true, ...(options.signal ? { abortSignal: options.signal } : {}) })
        : Readable.from([await container.logs({ ...base, follow: false })]);
      await demuxLines(docker, source, (stream, raw) => emit({ service, stream, ...splitTimestamp(raw) }), options.signal);
    }),
  );
  if (!options.follow) {
    // Stable sort: lines of one container keep their order when stamps are equal.
    collected.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
    for (const line of collected) onLine(line);
  }
}

/** The last lines a container wrote (both streams), for error messages. */
export async function lastLogLines(docker: Docker, id: string, count = 20): Promise<string[]> {
  try {
    const buffer = await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail: count });
    const lines: string[] = [];
    await demuxLines(docker, Readable.from([buffer]), (_stream, text) => void lines.push(text));
    return lines;
  } catch {
    return [];
  }
}

function demuxLines(
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
function splitTimestamp(raw: string): { time: string; text: string } {
  const match = /^(\d{4}-\d\d-\d\dT[0-9:.]+Z) (.*)$/s.exec(raw);
  return match ? { time: match[1]!, text: match[2]! } : { time: '', text: raw };
}
