import { createUpstreamLogin } from './auth/upstream/create-upstream-login.js';
import { loadOrCreateStateKey } from './config/state-key.js';
import { loadOrCreateAdminToken } from './config/admin-token.js';
import type { LocalLoginAnnouncement } from './auth/upstream/local-login.js';
import type { UpstreamLogin } from './auth/upstream/upstream-login.js';
import { loadKeySet, type KeySet } from './auth/tokens/signing-keys.js';
import type { ProjectPaths } from './config/project-paths.js';
import { isLoopbackHost, type GatewayConfig } from './config/schema.js';
import { readSecret, requireSecret } from './config/secrets.js';
import { readServerHeaders } from './config/server-headers.js';
import { readUpstreamClientSecrets } from './config/server-oauth-secret.js';
import { githubSecretHint, requireGitHubClientId } from './config/github-client-id.js';
import { startGateway, type RunningGateway } from './gateway.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import type { ListenAddress } from './http/listen-address.js';
import type { Logger } from './logger.js';
import { createStore } from './store/create-store.js';
import { embeddedStoreFiles } from './config/store-files.js';
import { acquireGatewayLock, type PidLock } from './store/gateway-lock.js';
import type { Store } from './store/store.js';
import { removeStaleTempFiles } from './fs/stale-temp-files.js';

export interface ProjectGatewayOptions {
  config: GatewayConfig;
  /** Project directory; undefined for the demo (nothing on disk, in-memory store and keys). */
  paths?: ProjectPaths;
  keys?: KeySet;
  store?: Store;
  listen: ListenAddress;
  logger: Logger;
  /** Where local-login one-time codes go (the operator's terminal). */
  announceLoginCode: (announcement: LocalLoginAnnouncement) => void;
  fetch?: typeof fetch;
}

/** The static header values of every remote server, from `.secrets/servers/NAME.headers.json`. */
async function readUpstreamHeaders(config: GatewayConfig, paths: ProjectPaths): Promise<Record<string, Record<string, string>>> {
  const headers: Record<string, Record<string, string>> = {};
  for (const [name, server] of Object.entries(config.servers)) {
    if ('url' in server) headers[name] = await readServerHeaders(paths, name, server.headers ?? []);
  }
  return headers;
}

async function createUpstream(options: ProjectGatewayOptions, store: Store): Promise<UpstreamLogin> {
  const { config, paths } = options;
  const provider = config.provider;
  let clientSecret: string | undefined;
  if (provider.type !== 'local') {
    if (!paths) throw new TypeError('an upstream identity provider needs a project directory for its client secret');
    if (provider.type === 'oidc') {
      clientSecret = await readSecret(paths.oidcClientSecret);
    } else {
      // No app registered yet says more than the missing secret that follows from it.
      requireGitHubClientId(provider, paths.dir);
      clientSecret = await requireSecret(paths.githubClientSecret, 'the GitHub client secret', githubSecretHint(paths.dir));
    }
  }
  return createUpstreamLogin(config, { store, clientSecret, announceLoginCode: options.announceLoginCode, ...(options.fetch ? { fetch: options.fetch } : {}) });
}

/**
 * Assembles and starts the embedded gateway of one project: keys and secrets from `.secrets/`,
 * the configured store, the upstream login, then router + auth + bridges on one listener.
 */
export async function startProjectGateway(options: ProjectGatewayOptions): Promise<RunningGateway> {
  const { config, paths, logger } = options;
  if (!isLoopbackHost(options.listen.host) && config.publicUrl.protocol === 'http:') {
    logger.warn({ event: 'insecure_listen', listen: options.listen.host }, 'listening beyond loopback with an http publicUrl');
  }
  if (paths) {
    const removed = await removeStaleTempFiles([paths.dir, paths.secretsDir, paths.stateDir]);
    if (removed.length > 0)
      logger.info({ event: 'stale_temp_files_removed', files: removed }, `removed ${removed.length} temp file(s) left by an interrupted write`);
  }
  const keys = options.keys ?? (paths ? await loadKeySet(paths.signingKeys) : undefined);
  if (!keys) throw new TypeError('keys are required without a project directory');
  let store = options.store;
  /** Says "a gateway serves this database" to admin commands and refuses a second serve; taken before the store opens. */
  let gatewayLock: PidLock | undefined;
  if (!store) {
    if (!paths) throw new TypeError('a store is required without a project directory');
    const redisPassword = config.store.type === 'redis' ? await readSecret(paths.redisPassword) : undefined;
    if (config.store.type === 'embedded') gatewayLock = await acquireGatewayLock(embeddedStoreFiles(config.store, paths).database);
    try {
      store = await createStore(config.store, paths, { logger, ...(redisPassword ? { redisPassword } : {}) });
    } catch (err) {
      await gatewayLock?.release();
      throw err;
    }
  }
  try {
    const upstream = await createUpstream(options, store);
    const loadKeys = paths ? () => loadKeySet(paths.signingKeys) : undefined;
    const upstreamHeaders = paths ? await readUpstreamHeaders(config, paths) : undefined;
    const stateKey = paths ? await loadOrCreateStateKey(paths.stateKey) : undefined;
    const upstreamClientSecrets = paths ? await readUpstreamClientSecrets(config, paths) : undefined;
    // The demo (no project directory) has no admin API: nothing on disk to read a token from.
    const adminToken = paths ? await loadOrCreateAdminToken(paths.adminToken) : undefined;
    const running = await startGateway(
      {
        config,
        store,
        keys,
        upstream,
        logger,
        projectDir: paths?.dir ?? process.cwd(),
        ...(loadKeys ? { loadKeys } : {}),
        ...(upstreamHeaders ? { upstreamHeaders } : {}),
        ...(paths ? { loadUpstreamHeaders: (next: GatewayConfig) => readUpstreamHeaders(next, paths) } : {}),
        ...(stateKey ? { stateKey } : {}),
        ...(upstreamClientSecrets ? { upstreamClientSecrets } : {}),
        ...(adminToken ? { adminToken } : {}),
        // The one gateway of this process: Node's own metrics (CPU, memory, event loop) too.
        metrics: new GatewayMetrics(),
      },
      options.listen,
    );
    if (gatewayLock !== undefined) {
      const lock = gatewayLock;
      const close = running.close.bind(running);
      running.close = async () => {
        try {
          await close();
        } finally {
          await lock.release();
        }
      };
    }
    return running;
  } catch (err) {
    await store.close();
    await gatewayLock?.release();
    throw err;
  }
}
