import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createAuthApp } from './auth/auth-app.js';
import { createAuthContext } from './auth/auth-context.js';
import type { KeySet } from './auth/signing-keys.js';
import type { UpstreamLogin } from './auth/upstream/upstream-login.js';
import { createRequestVerifier } from './auth/verify-request.js';
import { createStdioBridge, type Bridge } from './bridge/streamable-http-bridge.js';
import type { StdioLaunch } from './bridge/child-process-session.js';
import type { GatewayConfig, RemoteServerConfig, ServerConfig } from './config/schema.js';
import { GatewayError } from './errors.js';
import type { Logger } from './logger.js';
import { createBuiltinRouter } from './router/builtin-router.js';
import type { Store } from './store/store.js';

export interface GatewayDeps {
  config: GatewayConfig;
  store: Store;
  keys: KeySet;
  upstream: UpstreamLogin;
  logger: Logger;
  /** Working directory for stdio servers that configure none (the project directory). */
  projectDir: string;
  now?: () => number;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export interface RunningGateway {
  /** Where the HTTP server actually listens (port resolved when 0 was asked for). */
  address: ListenAddress;
  bridges: ReadonlyMap<string, Bridge>;
  close(): Promise<void>;
}

const DEMO_SERVER_SCRIPT = fileURLToPath(new URL('./demo/demo-mcp-server.js', import.meta.url));

/** How to start a configured server: a command line, or a server shipped with this package. */
export function launchFor(server: Exclude<ServerConfig, RemoteServerConfig>, projectDir: string): StdioLaunch {
  if ('builtin' in server) return { command: process.execPath, args: [DEMO_SERVER_SCRIPT], env: {}, cwd: projectDir };
  return { command: server.command, args: server.args, env: server.env, cwd: server.cwd ?? projectDir };
}

/**
 * The embedded gateway: built-in router + auth runtime + one bridge per server in this process,
 * on one HTTP listener. Resolves once it listens; `/health` answers 200 from then on while the
 * store is reachable.
 */
export async function startGateway(deps: GatewayDeps, listen: ListenAddress): Promise<RunningGateway> {
  const { config, store, keys, upstream, logger } = deps;
  const ctx = createAuthContext({ config, store, keys, upstream, logger, ...(deps.now ? { now: deps.now } : {}) });
  const authApp = createAuthApp(ctx);
  const bridges = new Map<string, Bridge>(
    Object.entries(config.servers).flatMap(([name, server]): Array<[string, Bridge]> =>
      'url' in server ? [] : [[name, createStdioBridge({ serverName: name, launch: launchFor(server, deps.projectDir), logger })]],
    ),
  );

  const health = (_req: IncomingMessage, res: ServerResponse): void => {
    store.ping().then(
      () => {
        const servers = Object.fromEntries([...bridges].map(([name, bridge]) => [name, { sessions: bridge.sessionCount }]));
        res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify({ status: 'ok', servers }));
      },
      (err: unknown) => {
        logger.warn({ event: 'health_failed', err: (err as Error).message });
        res.writeHead(503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify({ status: 'unavailable', reason: 'store unreachable' }));
      },
    );
  };

  const router = createBuiltinRouter({
    urls: ctx.urls,
    forwardAuth: createRequestVerifier(ctx),
    services: bridges,
    auth: (req, res) => authApp(req, res),
    health,
    logger,
  });
  const server = createServer(router);
  await listenOn(server, listen);
  const { port } = server.address() as AddressInfo;
  logger.info({ event: 'gateway_listening', host: listen.host, port, publicUrl: config.publicUrl, servers: [...bridges.keys()] });

  let closing: Promise<void> | undefined;
  return {
    address: { host: listen.host, port },
    bridges,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        await Promise.all([...bridges.values()].map((b) => b.close()));
        // Open SSE streams ended with their sessions; drop idle keep-alive sockets too.
        server.closeAllConnections();
        await stopped;
        await store.close();
        logger.info({ event: 'gateway_stopped' });
      })();
      return closing;
    },
  };
}

function listenOn(server: Server, { host, port }: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') {
        reject(new GatewayError('ERR_PORT_IN_USE', `${host}:${port} is already in use`, { hint: 'stop the program using it, or pass --listen HOST:PORT with a free port (and a matching publicUrl)' }));
      } else if (err.code === 'EACCES') {
        reject(new GatewayError('ERR_LISTEN_FAILED', `not allowed to listen on ${host}:${port}`, { hint: 'ports below 1024 need root or CAP_NET_BIND_SERVICE; use --listen with a higher port behind a proxy' }));
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(new GatewayError('ERR_LISTEN_FAILED', `${host} is not an address of this machine`, { hint: 'pass --listen with a local address, e.g. 127.0.0.1:8080 or 0.0.0.0:8080' }));
      } else {
        reject(err);
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
