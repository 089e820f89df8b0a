import type Docker from 'dockerode';
import { GatewayError } from '../../../runtime/errors.js';
import { interrupted, sleep } from '../docker/wait-ready.js';
import { lastServiceLines } from './service-logs.js';

export interface WaitTarget {
  /** Key in stack.yaml, for messages. */
  key: string;
  id: string;
  replicas: number;
}

export interface SwarmWaitOptions {
  timeoutMs: number;
  /** When this run changed the services: failures of tasks created before are history, not this run's. */
  since: number;
  signal?: AbortSignal | undefined;
  onProgress?: (key: string, running: number, desired: number) => void;
  onReady?: (key: string) => void;
  pollMs?: number;
}

interface TaskInfo {
  ID: string;
  Slot?: number;
  CreatedAt?: string;
  DesiredState?: string;
  Status?: { State?: string; Message?: string; Err?: string };
}

/** How often one service's new tasks may fail (each one restarted by swarm) before up stops waiting: a crash loop, not a race at start. */
const FAILURES_TOLERATED = 3;

/**
 * Waits until every service runs its desired replicas of its current spec. Swarm reports a task
 * with a healthcheck as running only once it is healthy (and only then adds it to the service's
 * DNS), so "running" here means what `status` shows as n/n. Tasks of the previous spec are not
 * counted (`_up-to-date`, the filter `docker service update` itself watches with), and a
 * rolling update still being watched by swarm (its monitor period) is not done yet.
 *
 * Fails early when waiting cannot help: a task rejected (its image is missing on the node, a
 * bind source does not exist there), tasks failing again and again, an update that swarm paused
 * or rolled back; with the last log lines of the service.
 */
export async function waitConverged(docker: Docker, targets: readonly WaitTarget[], options: SwarmWaitOptions): Promise<void> {
  const { timeoutMs, since, signal, pollMs = 1_000 } = options;
  const deadline = Date.now() + timeoutMs;
  const remaining = new Map(targets.map((target) => [target.key, target]));
  const last = new Map<string, string>();
  const pendingReason = new Map<string, string>();
  for (;;) {
    if (signal?.aborted) throw interrupted();
    for (const target of [...remaining.values()]) {
      const service = (await docker.getService(target.id).inspect()) as Docker.Service;
      const update = service.UpdateStatus;
      const updatedNow = update?.StartedAt !== undefined && Date.parse(update.StartedAt) >= since - 1_000;
      if (updatedNow && (update?.State === 'paused' || update?.State === 'rollback_completed' || update?.State === 'rollback_paused')) {
        throw await failure(
          docker,
          target,
          `the rolling update of ${target.key} failed and swarm ${update.State === 'paused' ? 'paused it' : 'rolled it back'}: ${update.Message ?? 'no reason given'}`,
        );
      }
      const tasks = (await docker.listTasks({ filters: { service: [target.id], '_up-to-date': ['true'] } })) as TaskInfo[];
      const fresh = tasks.filter((task) => task.CreatedAt === undefined || Date.parse(task.CreatedAt) >= since - 1_000);
      const rejected = fresh.find((task) => task.Status?.State === 'rejected');
      if (rejected !== undefined) {
        throw await failure(
          docker,
          target,
          `a task of ${target.key} was rejected: ${rejected.Status?.Err ?? rejected.Status?.Message ?? 'no reason given'}`,
          rejectedHint(rejected),
        );
      }
      const failed = fresh.filter((task) => task.Status?.State === 'failed');
      if (failed.length >= FAILURES_TOLERATED) {
        throw await failure(
          docker,
          target,
          `tasks of ${target.key} keep failing (${failed.length} since this run began; the last: ${failed[0]?.Status?.Err ?? 'exited'})`,
        );
      }
      const slots = new Set(tasks.filter((task) => task.DesiredState === 'running' && task.Status?.State === 'running').map((task) => task.Slot ?? task.ID));
      const running = slots.size;
      const waiting = tasks.find((task) => task.DesiredState === 'running' && task.Status?.State !== 'running');
      if (waiting !== undefined) pendingReason.set(target.key, `${waiting.Status?.State ?? '?'}: ${waiting.Status?.Err ?? waiting.Status?.Message ?? ''}`);
      const progress = `${running}/${target.replicas}`;
      if (last.get(target.key) !== progress) {
        last.set(target.key, progress);
        options.onProgress?.(target.key, running, target.replicas);
      }
      const settling = update?.State === 'updating' || update?.State === 'rollback_started';
      if (running >= target.replicas && !settling) {
        remaining.delete(target.key);
        options.onReady?.(target.key);
      }
    }
    if (remaining.size === 0) return;
    if (Date.now() >= deadline) {
      const lines = [...remaining.values()].map((target) => {
        const reason = pendingReason.get(target.key);
        return `${target.key}: ${last.get(target.key) ?? `0/${target.replicas}`} running${reason ? ` (a task is ${reason.trim().replace(/:$/, '')})` : ''}`;
      });
      throw new GatewayError('ERR_DOCKER_UNHEALTHY', `the swarm did not converge within ${Math.round(timeoutMs / 1000)}s:\n  ${lines.join('\n  ')}`, {
        hint: 'a task waiting for a node names why (no node with the image, a host-mode port already in use on every node, not enough nodes for one router per node); `mcp-gateway status --target swarm` and `mcp-gateway logs --target swarm NAME` show more; --timeout waits longer',
      });
    }
    await sleep(pollMs, signal);
  }
}

function rejectedHint(task: TaskInfo): string {
  const reason = `${task.Status?.Err ?? ''} ${task.Status?.Message ?? ''}`;
  if (/no such image|pull access denied|manifest unknown|not found/i.test(reason)) {
    return 'every node that runs a task needs the image: on more than one node, push the images to a registry the nodes can pull from and set deploy.nodeImage/--node-image to names there (docs/swarm.md)';
  }
  if (/bind source path does not exist|no such file or directory/i.test(reason)) {
    return "a bind mount's host path (a server's data directory or mounts) must exist on the node that runs the task: create it there, share it, or pin the service to this node (docs/swarm.md)";
  }
  return 'the reason above comes from the node that refused the task; `docker service ps --no-trunc NAME` shows every attempt';
}

async function failure(docker: Docker, target: WaitTarget, message: string, hint?: string): Promise<GatewayError> {
  const lines = await lastServiceLines(docker, target.id);
  const logs = lines.length > 0 ? `\n--- last log lines ---\n${lines.join('\n')}` : '';
  return new GatewayError('ERR_DOCKER_START_FAILED', `${message}${logs}`, {
    hint: hint ?? `the log lines above usually say why; \`mcp-gateway logs --target swarm ${target.key}\` shows more`,
  });
}
