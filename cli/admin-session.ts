import { urlText } from '../runtime/config/config-codecs.js';
import { createAdminHttpClient, type AdminHttpClient, type AdminHttpClientOptions } from './admin/admin-http-client.js';
import { createStoreAdminService } from '../runtime/auth/admin/admin-service.js';
import type { AdminOps } from '../runtime/auth/admin/admin-types.js';
import { readAdminToken } from '../runtime/config/admin-token.js';
import { loadConfig } from '../runtime/config/load-config.js';
import { projectPaths, type ProjectPaths } from '../runtime/config/project-paths.js';
import type { GatewayConfig } from '../runtime/config/schema.js';
import { readSecret } from '../runtime/config/secrets.js';
import { dockerDeployment, type DockerDeployment } from './deploy/docker-deployment.js';
import { GatewayError, isGatewayError } from '../runtime/errors.js';
import { silentLogger } from '../runtime/logger.js';
import { createStore } from '../runtime/store/create-store.js';
import type { Store } from '../runtime/store/store.js';
import { embeddedStoreFiles } from '../runtime/config/store-files.js';
import { runningGateway } from '../runtime/store/gateway-lock.js';
import { type CliOutput, processOutput } from './output.js';

export interface AdminSessionOptions {
  dir: string;
  /** Reach the admin API here instead of at the public URL (and never open the store): a Docker router's published port, a tunnel. */
  url?: string | undefined;
}

export interface AdminSessionDeps {
  output: CliOutput;
  fetch?: typeof fetch;
}

/** A command's options and its partial deps as openAdminSession takes them, with the output filled in. */
export function adminSessionArgs(options: AdminSessionOptions, deps: Partial<AdminSessionDeps>) {
  const output = deps.output ?? processOutput;
  return {
    output,
    sessionOptions: { dir: options.dir, url: options.url },
    sessionDeps: { output, ...(deps.fetch ? { fetch: deps.fetch } : {}) },
  };
}

export interface AdminSession {
  config: GatewayConfig;
  admin: AdminOps;
  /** How the state is reached, for messages: "the gateway at URL" or "the database PATH". */
  via: string;
  close(): Promise<void>;
}

/** How long a Redis-backed project waits for its gateway before using Redis itself. */
const PROBE_TIMEOUT_MS = 5_000;

/**
 * Where `clients`, `tokens` and `smoke` (to revoke its tokens) read and change the state. A
 * Docker deployment (cli/deploy/docker-deployment.ts) is only ever asked through its auth
 * runtime's admin API, at `--url` or the public URL, and a failure to reach it is the command's
 * error: its Redis is on the Docker network, and the local store is not its state. Otherwise a
 * running gateway owns the state, so they go through its admin API (public URL, or `--url`).
 * Only when no gateway runs do they open the store themselves: the SQLite database when no live
 * `serve` holds its gateway lock (`<database>.gateway.lock`), Redis when the gateway does not
 * answer. Both are safe to share (several admin commands may work on the database at once, and
 * none of them takes the gateway lock), but a running gateway's API also writes the audit log.
 */
export async function openAdminSession(options: AdminSessionOptions, deps: AdminSessionDeps): Promise<AdminSession> {
  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  const token = await readAdminToken(paths.adminToken);

  // A Docker deployment keeps its state in its Redis, on the Docker network: only its auth
  // runtime reaches it, so there is no store here to fall back to (a local database would be
  // one the deployment never uses, and an empty one says "No registered clients").
  const docker = await dockerDeployment(config, paths);
  if (docker !== undefined) {
    const client = apiClient(options.url ?? urlText(config.publicUrl), requireToken(token, paths, docker), deps, undefined, dockerTarget(docker));
    await client.ping();
    return apiSession(config, client, `the Docker deployment at ${client.baseUrl}`);
  }

  if (options.url !== undefined) {
    const client = apiClient(options.url, requireToken(token, paths), deps);
    await client.ping();
    return apiSession(config, client);
  }

  if (config.store.type === 'embedded') {
    const { database } = embeddedStoreFiles(config.store, paths);
    const holder = await runningGateway(database);
    if (holder !== undefined) {
      if (token === undefined) {
        throw new GatewayError(
          'ERR_ADMIN_UNAVAILABLE',
          `a gateway (process ${holder.pid}) serves ${database}, and the project has no admin token to ask it with`,
          {
            hint: 'restart that `mcp-gateway serve`: this version creates .secrets/admin-token and serves the admin API',
          },
        );
      }
      const client = apiClient(urlText(config.publicUrl), token, deps);
      try {
        await client.ping();
      } catch (err) {
        if (isGatewayError(err) && err.code === 'ERR_GATEWAY_UNREACHABLE') {
          throw new GatewayError(
            'ERR_GATEWAY_UNREACHABLE',
            `a gateway (process ${holder.pid}) serves ${database} but does not answer at ${urlText(config.publicUrl)}`,
            {
              hint: 'pass --url with the address it listens on (e.g. --url http://127.0.0.1:8080); the database is left to it while it runs',
              cause: err,
            },
          );
        }
        throw err;
      }
      return apiSession(config, client);
    }
    // No gateway runs: open the database (no lock taken; a serve starting meanwhile shares it safely).
    const store = await createStore(config.store, paths, { logger: silentLogger() });
    deps.output.stderr(`no gateway is running: working on the database ${database}\n`);
    return {
      config,
      admin: createStoreAdminService(config, store, Date.now, await existingStateKey(paths)),
      via: `the database ${database}`,
      close: () => store.close(),
    };
  }

  let unreachable: GatewayError | undefined;
  if (token !== undefined) {
    try {
      await apiClient(urlText(config.publicUrl), token, deps, PROBE_TIMEOUT_MS).ping();
      return apiSession(config, apiClient(urlText(config.publicUrl), token, deps));
    } catch (err) {
      if (!isGatewayError(err) || (err.code !== 'ERR_GATEWAY_UNREACHABLE' && err.code !== 'ERR_ADMIN_UNAVAILABLE')) throw err;
      unreachable = err;
    }
  }
  const redisPassword = await readSecret(paths.redisPassword);
  let store: Store;
  try {
    store = await createStore(config.store, paths, { logger: silentLogger(), ...(redisPassword ? { redisPassword } : {}) });
  } catch (err) {
    if (unreachable === undefined || !isGatewayError(err)) throw err;
    throw new GatewayError('ERR_GATEWAY_UNREACHABLE', `${unreachable.message}, and ${err.message}`, {
      hint: 'start Redis or the gateway, or pass --url with the address the gateway is reached at',
      cause: err,
    });
  }
  deps.output.stderr(`${unreachable ? `${unreachable.message}: ` : ''}working on Redis (${urlText(config.store.url)}) directly\n`);
  return {
    config,
    admin: createStoreAdminService(config, store, Date.now, await existingStateKey(paths)),
    via: `Redis at ${urlText(config.store.url)}`,
    close: () => store.close(),
  };
}

/** Opens a session, runs `work`, and closes the session (and the store it opened) whatever happens. */
export async function withAdminSession<T>(options: AdminSessionOptions, deps: AdminSessionDeps, work: (session: AdminSession) => Promise<T>): Promise<T> {
  const session = await openAdminSession(options, deps);
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

function apiClient(
  baseUrl: string,
  token: string,
  deps: AdminSessionDeps,
  timeoutMs?: number,
  describe?: Pick<AdminHttpClientOptions, 'target' | 'hints'>,
): AdminHttpClient {
  return createAdminHttpClient({
    baseUrl,
    token,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...describe,
  });
}

/** What a failure to reach a Docker deployment's admin API says instead of the hints for `serve`. */
export function dockerTarget(docker: DockerDeployment): Pick<AdminHttpClientOptions, 'target' | 'hints'> {
  return {
    target: `auth runtime of the Docker deployment (${docker.reason})`,
    hints: {
      unreachable: docker.reachHint,
      unavailable: `the router there does not route /admin/ to the auth runtime, or the auth container runs without MCPGW_ADMIN_TOKEN: run \`mcp-gateway up\` (it renders the deploy folder again); or ${docker.reachHint}`,
      denied:
        'the deployment runs with another admin token than .secrets/admin-token (the file changed since the last `up`): run `mcp-gateway up` so the auth container gets this one',
    },
  };
}

function apiSession(config: GatewayConfig, client: AdminHttpClient, via = `the gateway at ${client.baseUrl}`): AdminSession {
  return { config, admin: client, via, close: async () => {} };
}

function requireToken(token: string | undefined, paths: ProjectPaths, docker?: DockerDeployment): string {
  if (token !== undefined) return token;
  throw new GatewayError(
    'ERR_SECRET_MISSING',
    `the admin token is missing (${paths.adminToken})${docker ? `, so the Docker deployment (${docker.reason}) cannot be asked` : ''}`,
    {
      hint: docker
        ? '`mcp-gateway up` creates it and gives it to the auth container (it renders the deploy folder again)'
        : 'it is created when `mcp-gateway serve` or `render` first runs in this project; for Docker, render and up again so the auth container gets it',
    },
  );
}

/** The state key, when the project has one: it opens users' upstream grants (`connections`). Never created here. */
async function existingStateKey(paths: ProjectPaths): Promise<Uint8Array | undefined> {
  const text = await readSecret(paths.stateKey);
  if (text === undefined) return undefined;
  const key = Buffer.from(text, 'base64url');
  return key.length === 32 ? key : undefined;
}
