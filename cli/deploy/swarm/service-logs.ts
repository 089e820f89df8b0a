import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { demuxLines, inTimeOrder, splitTimestamp } from '../docker/log-lines.js';

export interface ServiceLogLine {
  /** The service's key (auth, router, bridge-NAME), with the task's slot when it has several: `router.2`. */
  source: string;
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds, as the engine stamps it; '' when absent. */
  time: string;
  text: string;
}

export interface ServiceLogsOptions {
  follow: boolean;
  /** Lines per task from the end; undefined = all. */
  tail?: number;
  signal?: AbortSignal;
}

/**
 * The logs of swarm services through the manager's API (GET /services/{id}/logs), which gathers
 * every task's output from whichever node runs it (framed as a container's: ../docker/log-lines.ts).
 * Asked for details, the engine puts the task's swarm attributes before each message, which
 * name the task: its slot becomes the line's source.
 * Without `follow` the lines of all services are merged in time order.
 */
export async function serviceLogs(
  docker: Docker,
  services: ReadonlyArray<{ id: string; service: string; replicas: number }>,
  options: ServiceLogsOptions,
  onLine: (line: ServiceLogLine) => void,
): Promise<void> {
  await inTimeOrder(!options.follow, onLine, (emit) =>
    Promise.all(
      services.map(async ({ id, service, replicas }) => {
        const slots = new Map<string, number>();
        const slotOf = async (task: string): Promise<number | undefined> => {
          if (!slots.has(task)) {
            for (const t of (await docker.listTasks({ filters: { service: [id] } })) as Array<{ ID: string; Slot?: number }>) {
              if (t.Slot !== undefined) slots.set(t.ID, t.Slot);
            }
          }
          return slots.get(task);
        };
        const base = { stdout: true, stderr: true, timestamps: true, details: true, ...(options.tail === undefined ? {} : { tail: options.tail }) };
        const target = docker.getService(id);
        const source: NodeJS.ReadableStream = options.follow
          ? await target.logs({ ...base, follow: true, ...(options.signal ? { abortSignal: options.signal } : {}) })
          : Readable.from([(await target.logs({ ...base, follow: false })) as unknown as Buffer]);
        // A slot is looked up once per task; the lines wait for it in their order.
        const pending: Array<Promise<void>> = [];
        await demuxLines(
          docker,
          source,
          (stream, raw) => {
            const { time, task, text } = splitLine(raw);
            pending.push(
              (task === undefined || replicas <= 1 ? Promise.resolve(undefined) : slotOf(task)).then((slot) =>
                emit({ source: slot === undefined ? service : `${service}.${slot}`, stream, time, text }),
              ),
            );
          },
          options.signal,
        );
        await Promise.all(pending);
      }),
    ),
  );
}

/** `2024-05-01T10:00:00.123456789Z com.docker.swarm.node.id=...,com.docker.swarm.task.id=... text` -> its parts. */
export function splitLine(raw: string): { time: string; task: string | undefined; text: string } {
  const { time, text: rest } = splitTimestamp(raw);
  const details = /^((?:[A-Za-z0-9_.-]+=[^,\s]*,?)+) (.*)$/s.exec(rest);
  if (details === null || !details[1]!.includes('com.docker.swarm.')) return { time, task: undefined, text: rest };
  const task = /(?:^|,)com\.docker\.swarm\.task\.id=([^,]+)/.exec(details[1]!)?.[1];
  return { time, task, text: details[2]! };
}

/** The last lines of a service (every task), for error messages; none when the engine cannot give them. */
export async function lastServiceLines(docker: Docker, id: string, count = 15): Promise<string[]> {
  const lines: ServiceLogLine[] = [];
  try {
    await serviceLogs(docker, [{ id, service: '', replicas: 1 }], { follow: false, tail: count }, (line) => void lines.push(line));
  } catch {
    return [];
  }
  return lines.slice(-count).map((line) => line.text);
}
