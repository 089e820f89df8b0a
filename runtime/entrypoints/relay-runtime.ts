import { connect, createServer, type Socket } from 'node:net';
import { listenOn, type ListenAddress } from '../http/listen-address.js';
import type { Logger } from '../logger.js';
import type { RunningRuntime } from './http-runtime.js';
import { runtimeListen, runtimeSocket, type RuntimeEnv } from './runtime-env.js';

export interface RelayRuntimeDeps {
  /** The bridge's Unix socket, in the volume the relay shares with that bridge only. */
  socket: string;
  logger: Logger;
}

/** A little longer than a container runtime's own shutdown grace (http-runtime.ts), under Docker's 10 s stop timeout. */
const RELAY_DRAIN_MS = 9_000;

/**
 * A `relay-NAME` container, for a server with `network: none`. Its bridge container has no
 * network at all (Docker's `network_mode: none`: a loopback interface only), because a container
 * on an `internal` network still reaches every address of the Docker host (moby/libnetwork#1151).
 * The bridge listens on a Unix socket in a volume only this relay mounts; the relay listens on
 * the relay network, which only the router (or Traefik) shares, and copies bytes between each
 * TCP connection and a connection of its own to that socket. No HTTP is parsed here, so SSE,
 * `Expect: 100-continue`, keep-alive and half-closes reach either end exactly as the other wrote
 * them, and a request the bridge has not seen cannot be answered by the relay.
 */
export async function startRelayRuntime({ socket, logger }: RelayRuntimeDeps, listen: ListenAddress): Promise<RunningRuntime> {
  const open = new Set<Socket>();
  // allowHalfOpen: a client's FIN is passed on as a FIN (pipe ends the other side), not turned into a close of its answer.
  const server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    const upstream = connect({ path: socket, allowHalfOpen: true });
    for (const end of [client, upstream]) {
      open.add(end);
      end.once('close', () => {
        open.delete(end);
        // One end gone for good: nothing more can travel between them.
        client.destroy();
        upstream.destroy();
      });
    }
    let connected = false;
    upstream.once('connect', () => (connected = true));
    // An error closes that end, and the close handler above the other; later errors are resets the ends see themselves.
    client.on('error', () => {});
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      // The bridge not (yet) listening: the router answers its client 502.
      if (!connected)
        logger.warn({ event: 'relay_upstream_failed', socket, code: err.code }, `cannot reach the bridge at ${socket}: ${err.code ?? err.message}`);
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await listenOn(server, listen);
  const { port } = server.address() as { port: number };
  logger.info({ event: 'runtime_listening', host: listen.host, port, socket }, `relay listening on ${listen.host}:${port} for ${socket}`);
  let closing: Promise<void> | undefined;
  return {
    address: { host: listen.host, port },
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        // The bridge behind it drains on the same SIGTERM (docker stop): its connections end once
        // its calls in flight are answered and its sessions are over, and each end takes the other
        // with it. Only what is still open after the bridge's grace is cut.
        const deadline = Date.now() + RELAY_DRAIN_MS;
        while (open.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
        for (const end of open) end.destroy();
        await stopped;
        logger.info({ event: 'runtime_stopped' }, 'relay stopped');
      })();
      return closing;
    },
  };
}

/** `mcp-gateway runtime relay`: MCPGW_LISTEN (default 0.0.0.0:8000) to the socket MCPGW_RELAY_SOCKET. */
export function startRelayRuntimeFromEnv({ env, logger }: { env: RuntimeEnv; logger: Logger }): Promise<RunningRuntime> {
  return startRelayRuntime({ socket: runtimeSocket(env, 'MCPGW_RELAY_SOCKET', '/run/mcpgw/NAME.sock'), logger }, runtimeListen(env));
}
