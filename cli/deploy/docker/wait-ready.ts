import type Docker from 'dockerode';
import { GatewayError } from '../../../runtime/errors.js';
import { lastLogLines } from './container-logs.js';
import { bridgeHealthDetail, isPermanentLaunchFailure } from './launch-probe.js';

export interface WaitReadyOptions {
  service: string;
  /** How long the container may take to become healthy (or, without a healthcheck, to run). */
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * Also run the healthcheck's test command through `exec` while Docker says `starting`, and
   * count its success as healthy. Docker runs its first check only after a full `interval`;
   * `up` uses this to start dependents early, then waits for Docker's own verdict at the end.
   */
  probe?: boolean;
  /**
   * A bridge: ask it (launch-probe.ts) why it is not healthy yet, and fail at once when the
   * reason is one waiting does not change (its command missing, the server exiting before
   * `initialize`), instead of after the start period and every retry.
   */
  launchProbe?: boolean;
  /** Between inspections. */
  pollMs?: number;
  /** Without a healthcheck, how long the container must keep running (one start, no restart) to count. */
  settleMs?: number;
  now?: () => number;
}

const LOG_LINES_IN_ERRORS = 15;

/**
 * Waits until a started container is ready: `healthy` when it has a healthcheck (for auth and
 * router their `/health`, for bridges `/health`, which answers from a cached MCP `initialize`
 * probe, so no session is opened per check), `running` otherwise (see `probe` for not waiting
 * a whole interval). A container that exits, restarts or turns unhealthy fails at once, with its
 * last log lines.
 */
export async function waitReady(docker: Docker, id: string, options: WaitReadyOptions): Promise<'healthy' | 'running'> {
  const { service, timeoutMs, signal, probe: useProbe = false, launchProbe = false, pollMs = 500, settleMs = 2_000, now = Date.now } = options;
  const container = docker.getContainer(id);
  const deadline = now() + timeoutMs;
  let lastProbe = 0;
  let lastLaunchProbe = 0;
  // A process that crashes right after start is "running" for a moment: it counts once seen running, unrestarted, for settleMs.
  let runningSince: { at: number; startedAt: string } | undefined;
  let restarts: number | undefined;
  for (;;) {
    if (signal?.aborted) throw interrupted();
    const info = await container.inspect();
    const state = info.State;
    restarts ??= info.RestartCount;
    // With a restart policy a crash shows as a restart (or a brief `restarting`), not as `exited`.
    if (state.Status === 'exited' || state.Status === 'dead' || state.Restarting || info.RestartCount > restarts) {
      throw await failure(
        docker,
        id,
        'ERR_DOCKER_START_FAILED',
        `service ${service} stopped during start (exit code ${state.ExitCode}${state.Error ? `: ${state.Error}` : ''})`,
      );
    }
    const health = state.Health?.Status;
    const test = info.Config.Healthcheck?.Test;
    const hasCheck = health !== undefined && health !== 'none' && !(test?.[0] === 'NONE');
    if (state.Running && !hasCheck) {
      if (runningSince === undefined || runningSince.startedAt !== state.StartedAt) runningSince = { at: now(), startedAt: state.StartedAt };
      else if (now() - runningSince.at >= settleMs) return 'running';
    }
    if (health === 'healthy') return 'healthy';
    if (health === 'unhealthy') {
      const output = state.Health?.Log?.at(-1)?.Output?.trim();
      throw await failure(docker, id, 'ERR_DOCKER_UNHEALTHY', `service ${service} is unhealthy${output ? `: ${output}` : ''}`);
    }
    if (now() >= deadline) {
      const output = state.Health?.Log?.at(-1)?.Output?.trim();
      throw await failure(
        docker,
        id,
        'ERR_DOCKER_UNHEALTHY',
        `service ${service} did not become healthy within ${Math.round(timeoutMs / 1000)}s${output ? ` (last check: ${output})` : ''}`,
      );
    }
    if (launchProbe && state.Running && now() - lastLaunchProbe >= 1_500) {
      lastLaunchProbe = now();
      const detail = await bridgeHealthDetail(docker, id);
      if (detail !== undefined && isPermanentLaunchFailure(detail)) {
        throw await failure(
          docker,
          id,
          'ERR_DOCKER_START_FAILED',
          `service ${service} cannot start its MCP server (${detail.replace(/^Could not start the MCP server: /, '')})`,
          {
            hint: `waiting would not change this: the command must exist in the runtime image (node, npm, npx; python3, uv, uvx in the python one) and the server must start with the configured args and env; fix servers.${service.replace(/^bridge-/, '')} in mcp-gateway.yaml and run up again (\`mcp-gateway logs ${service.replace(/^bridge-/, '')}\` shows its output)`,
          },
        );
      }
    }
    if (useProbe && state.Running && test && test.length > 1 && now() - lastProbe >= 1_000) {
      lastProbe = now();
      if (await probe(container, test)) return 'healthy';
    } else {
      await sleep(pollMs, signal);
    }
  }
}

/** Runs a healthcheck test (`CMD ...` or `CMD-SHELL ...`) in the container; true when it exits 0 within 5 s. */
async function probe(container: Docker.Container, test: string[]): Promise<boolean> {
  const [kind, ...rest] = test;
  const cmd = kind === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : kind === 'CMD' ? rest : undefined;
  if (cmd === undefined) return false;
  try {
    const exec = await container.exec({ Cmd: cmd, AttachStdout: false, AttachStderr: false });
    const response: unknown = await exec.start({ Detach: true });
    // The engine keeps the start request's connection open even when detached; it would keep the CLI alive.
    (response as { destroy?: () => void } | undefined)?.destroy?.();
    const until = Date.now() + 5_000;
    while (Date.now() < until) {
      const result = await exec.inspect();
      if (!result.Running) return result.ExitCode === 0;
      await sleep(100);
    }
  } catch {
    // The container may be between restarts, or the command absent: Docker's own checks decide.
  }
  return false;
}

async function failure(
  docker: Docker,
  id: string,
  code: 'ERR_DOCKER_START_FAILED' | 'ERR_DOCKER_UNHEALTHY',
  message: string,
  { hint = 'the log lines above usually say why; `mcp-gateway logs NAME` shows more' }: { hint?: string } = {},
): Promise<GatewayError> {
  const lines = await lastLogLines(docker, id, LOG_LINES_IN_ERRORS);
  const logs = lines.length > 0 ? `\n--- last log lines ---\n${lines.join('\n')}` : '';
  return new GatewayError(code, `${message}${logs}`, { hint });
}

export function interrupted(): GatewayError {
  return new GatewayError('ERR_DOCKER_INTERRUPTED', 'interrupted', { hint: 'run `mcp-gateway up` again to finish the deployment' });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
