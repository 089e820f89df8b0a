import { lstat, unlink } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayError } from '../errors.js';
import { listenOn, type ListenAddress } from '../http/listen-address.js';
import type { Logger } from '../logger.js';
import { deferContinue } from '../http/expect-continue.js';
import { createDrain, type Refusal } from '../http/graceful-drain.js';

/** A Unix domain socket to listen on: the bridge of a `network: none` server, reached through its relay (relay-runtime.ts). */
export interface SocketAddress {
  socket: string;
}

/** Where a container runtime listens: HOST:PORT, or (bridges only) a Unix socket. */
export type RuntimeAddress = ListenAddress | SocketAddress;

/** One container runtime (auth, a bridge, the router, a relay) listening on its port or socket. */
export interface RunningRuntime<A extends RuntimeAddress = ListenAddress> {
  /** Where it listens (port resolved when 0 was asked for). */
  address: A;
  /** Stops accepting, ends open streams, then runs the runtime's own cleanup; idempotent. */
  close(): Promise<void>;
}

/**
 * Longer than the 5 s default and than the idle time of the callers' pools (the router's agents,
 * Traefik's 90 s is for its clients), so a caller rarely sends on a connection this side is closing.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** What a container's calls in flight get on SIGTERM: under Docker's default 10 s stop timeout, after which it sends SIGKILL. */
const RUNTIME_SHUTDOWN_GRACE_MS = 8_000;

export const JSON_NO_STORE = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' } as const;

/** `/health` (query ignored): the path the compose healthchecks and the router probe. */
export function isHealthRequest(req: IncomingMessage): boolean {
  return (req.method === 'GET' || req.method === 'HEAD') && (req.url ?? '/').split('?', 1)[0] === '/health';
}

export function replyHealth(res: ServerResponse, healthy: boolean, body: Record<string, unknown>): void {
  res.writeHead(healthy ? 200 : 503, JSON_NO_STORE).end(JSON.stringify({ status: healthy ? 'ok' : 'unavailable', ...body }));
}

/**
 * Listens with `handler`; `close` ends connections (SSE streams included) and then calls `cleanup`.
 * With `deferContinue` the handler sends `100 Continue` itself (sendContinue), once it wants the body.
 */
export async function serveRuntime<A extends RuntimeAddress>(
  name: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  listen: A,
  {
    logger,
    cleanup,
    deferContinue: defer = false,
    shutdownGraceMs = RUNTIME_SHUTDOWN_GRACE_MS,
    whileStopping,
  }: {
    logger: Logger;
    cleanup: () => Promise<void>;
    deferContinue?: boolean;
    shutdownGraceMs?: number;
    /** The runtime's own answer to a request that arrives once it is stopping (default: 503 with Retry-After). */
    whileStopping?: Refusal;
  },
): Promise<RunningRuntime<A>> {
  // As in serve: on SIGTERM (docker stop) new requests get 503 and calls in flight may finish.
  const drain = createDrain(handler, whileStopping === undefined ? {} : { whileDraining: whileStopping });
  const server = createServer(drain.handler);
  if (defer) deferContinue(server, drain.handler);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  let address: RuntimeAddress;
  if ('socket' in listen) {
    await listenOnSocket(server, listen.socket);
    address = listen;
    logger.info({ event: 'runtime_listening', socket: listen.socket }, `${name} listening on ${listen.socket}`);
  } else {
    await listenOn(server, listen);
    const { port } = server.address() as AddressInfo;
    address = { host: listen.host, port };
    logger.info({ event: 'runtime_listening', host: listen.host, port }, `${name} listening on ${listen.host}:${port}`);
  }
  let closing: Promise<void> | undefined;
  return {
    // The same kind as `listen`, only the port resolved.
    address: address as A,
    close() {
      closing ??= (async () => {
        if (!(await drain.drain(shutdownGraceMs)))
          logger.warn({ event: 'runtime_drain_timeout', inFlight: drain.inFlight }, 'requests still in flight after the shutdown grace; ending them');
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await cleanup();
        // Open streams ended with the cleanup (bridge sessions); anything left is cut now.
        server.closeAllConnections();
        await stopped;
        logger.info({ event: 'runtime_stopped' }, `${name} stopped`);
      })();
      return closing;
    },
  };
}

/**
 * Listens on a Unix socket. A socket file already there is a previous process's: the bridge
 * container restarted while its relay kept the shared volume mounted, and nothing else listens in
 * that volume, so it is removed (anything that is not a socket is left alone and fails the listen).
 */
async function listenOnSocket(server: Server, path: string): Promise<void> {
  const found = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (found?.isSocket()) await unlink(path);
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(
        new GatewayError('ERR_LISTEN_FAILED', `cannot listen on the socket ${path}: ${err.code ?? err.message}`, {
          hint: 'the bridge of a network: none server listens in its socket volume: render the deploy folder again (mcp-gateway render) so compose.yaml mounts it',
        }),
      );
    };
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
