import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenOn, type ListenAddress } from '../gateway.js';
import type { Logger } from '../logger.js';
import { deferContinue } from '../http/expect-continue.js';

/** One container runtime (auth, a bridge, the router) listening on its port. */
export interface RunningRuntime {
  /** Where it listens (port resolved when 0 was asked for). */
  address: ListenAddress;
  /** Stops accepting, ends open streams, then runs the runtime's own cleanup; idempotent. */
  close(): Promise<void>;
}

/**
 * Longer than the 5 s default and than the idle time of the callers' pools (the router's agents,
 * Traefik's 90 s is for its clients), so a caller rarely sends on a connection this side is closing.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

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
export async function serveRuntime(
  name: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  listen: ListenAddress,
  { logger, cleanup, deferContinue: defer = false }: { logger: Logger; cleanup: () => Promise<void>; deferContinue?: boolean },
): Promise<RunningRuntime> {
  const server = createServer(handler);
  if (defer) deferContinue(server, handler);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  await listenOn(server, listen);
  const { port } = server.address() as AddressInfo;
  logger.info({ event: 'runtime_listening', host: listen.host, port }, `${name} listening on ${listen.host}:${port}`);
  let closing: Promise<void> | undefined;
  return {
    address: { host: listen.host, port },
    close() {
      closing ??= (async () => {
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
