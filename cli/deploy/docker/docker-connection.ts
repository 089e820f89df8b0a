import Docker from 'dockerode';
import { GatewayError } from '../../../runtime/errors.js';

export interface DockerConnection {
  docker: Docker;
  /** The engine runs on this machine (unix socket or a loopback TCP address): host ports and paths are its own. */
  local: boolean;
  /** Where we connected, for messages: `unix:///var/run/docker.sock`, `tcp://host:2375`. */
  endpoint: string;
}

const PING_TIMEOUT_MS = 5_000;

/**
 * Connects to the engine `docker` itself would use (DOCKER_HOST, else the default socket) and
 * pings it, so every command fails up front, with the fix, when the engine is not there.
 */
export async function connectDocker(options: { docker?: Docker; timeoutMs?: number } = {}): Promise<DockerConnection> {
  let docker: Docker;
  try {
    docker = options.docker ?? new Docker();
  } catch (err) {
    throw unreachable(
      `DOCKER_HOST=${process.env['DOCKER_HOST'] ?? ''} is not a Docker endpoint`,
      'set DOCKER_HOST to unix:///var/run/docker.sock or tcp://HOST:PORT, or unset it',
      err,
    );
  }
  const modem = docker.modem as unknown as {
    socketPath?: string | (() => string | Promise<string>);
    host?: string;
    port?: string | number;
    protocol?: string;
  };
  // Without DOCKER_HOST (or with a bare unix://) docker-modem's socket path is an async function
  // that looks for ~/.docker/run/docker.sock first; unawaited, every message read
  // "no Docker socket at unix://[object Promise]".
  const socketPath = typeof modem.socketPath === 'function' ? await modem.socketPath() : modem.socketPath;
  const endpoint = socketPath
    ? `unix://${socketPath}`
    : modem.host
      ? `${modem.protocol === 'https' ? 'https' : 'tcp'}://${modem.host}:${modem.port ?? ''}`
      : `DOCKER_HOST=${process.env['DOCKER_HOST'] ?? ''}`;
  const local = socketPath !== undefined || ['localhost', '127.0.0.1', '::1'].includes(modem.host ?? '');

  const timeoutMs = options.timeoutMs ?? PING_TIMEOUT_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), timeoutMs);
      }),
    ]);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES') {
      throw unreachable(
        `permission denied on ${endpoint}`,
        'add your user to the docker group (sudo usermod -aG docker $USER, then log in again), or run as a user allowed to use the Docker socket',
        err,
      );
    }
    const reason =
      code === 'ENOENT'
        ? `no Docker socket at ${endpoint}`
        : code === 'ETIMEDOUT'
          ? `no answer from ${endpoint} within ${timeoutMs / 1000}s`
          : `cannot connect to ${endpoint} (${code ?? (err as Error).message})`;
    throw unreachable(
      reason,
      'start the Docker engine (sudo systemctl start docker, or run dockerd), check DOCKER_HOST, and that your user may use /var/run/docker.sock (the docker group)',
      err,
    );
  } finally {
    clearTimeout(timer);
  }
  return { docker, local, endpoint };
}

function unreachable(reason: string, hint: string, cause: unknown): GatewayError {
  return new GatewayError('ERR_DOCKER_UNREACHABLE', `Docker is not reachable: ${reason}`, { hint, cause });
}
