import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { demuxLines, inTimeOrder, splitTimestamp } from './log-lines.js';

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
  await inTimeOrder(!options.follow, onLine, (emit) =>
    Promise.all(
      containers.map(async ({ id, service }) => {
        const container = docker.getContainer(id);
        const base = { stdout: true, stderr: true, timestamps: true, ...(options.tail === undefined ? {} : { tail: options.tail }) } as const;
        const source: NodeJS.ReadableStream = options.follow
          ? await container.logs({ ...base, follow: true, ...(options.signal ? { abortSignal: options.signal } : {}) })
          : Readable.from([await container.logs({ ...base, follow: false })]);
        await demuxLines(docker, source, (stream, raw) => emit({ service, stream, ...splitTimestamp(raw) }), options.signal);
      }),
    ),
  );
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
