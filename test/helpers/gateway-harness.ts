import { fileURLToPath } from 'node:url';
import { tempProjectDir } from './temp-project.js';
import { createGitHubLogin } from '../../runtime/auth/upstream/github-login.js';
import { DEFAULT_GITHUB_SCOPE, GITHUB_SCOPE_WITH_ORGS, createGitHubUpstream } from '../../runtime/auth/upstream/github-upstream.js';
import type { UpstreamLogin } from '../../runtime/auth/upstream/upstream-login.js';
import { gatewayUrls, type GatewayUrls } from '../../runtime/auth/gateway-urls.js';
import type { CimdResolverOptions } from '../../runtime/auth/clients/cimd/cimd-resolver.js';
import { ephemeralKeySet, type KeySet } from '../../runtime/auth/tokens/signing-keys.js';
import { parseConfig } from '../../runtime/config/load-config.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import { startGateway, type RunningGateway } from '../../runtime/gateway.js';
import { type Logger, silentLogger } from '../../runtime/logger.js';
import { createEmbeddedStore } from '../../runtime/store/embedded-store.js';
import { createRedisStore } from '../../runtime/store/redis-store.js';
import { randomBytes } from 'node:crypto';
import { startRedis } from './redis-server.js';
import type { Store } from '../../runtime/store/store.js';
import { startGitHubStandIn, type GitHubStandIn, type StandInUser } from '../github-stand-in/github-stand-in.js';
import { freePort } from './free-port.js';

export const ECHO_FIXTURE = fileURLToPath(new URL('../fixtures/echo-mcp-server.mjs', import.meta.url));

export interface GatewayHarness {
  /** Which store backs this gateway (MCPGW_TEST_STORE=redis runs the suites on Redis). */
  storeKind: 'embedded' | 'redis';
  gateway: RunningGateway;
  github: GitHubStandIn;
  config: GatewayConfig;
  urls: GatewayUrls;
  keys: KeySet;
  store: Store;
  /** Moves the gateway's clock (token expiry, grace windows; store expiry only on the embedded store, Redis keeps real time). */
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * An embedded gateway in this process with two echo servers (`echo`, `other`), a GitHub
 * stand-in as the identity provider and alice on the allowlist.
 */
export async function startGatewayHarness(
  overrides: Partial<Record<string, unknown>> = {},
  options: {
    store?: (now: () => number) => Promise<Store>;
    cimd?: Partial<CimdResolverOptions>;
    githubUsers?: StandInUser[];
    port?: number;
    upstream?: (config: GatewayConfig, store: Store) => Promise<UpstreamLogin>;
    adminToken?: string;
    /** Where the gateway logs (audit lines included); silent by default. */
    logger?: Logger;
  } = {},
): Promise<GatewayHarness> {
  const github = await startGitHubStandIn(options.githubUsers ? { users: options.githubUsers } : {});
  const port = options.port ?? (await freePort());
  const config = parseConfig(
    {
      publicUrl: `http://127.0.0.1:${port}`,
      provider: { type: 'github', clientId: 'test-client-id', url: github.url },
      allowedUsers: ['alice'],
      servers: {
        echo: { command: process.execPath, args: [ECHO_FIXTURE] },
        other: { command: process.execPath, args: [ECHO_FIXTURE] },
      },
      ...overrides,
    },
    'test config',
  );
  let offset = 0;
  const now = (): number => Date.now() + offset;
  const keys = await ephemeralKeySet();
  const redis = !options.store && process.env['MCPGW_TEST_STORE'] === 'redis' ? await startRedis() : undefined;
  if (redis && 'skip' in redis) console.warn(`running on the embedded store instead of Redis: ${redis.skip}`);
  const storeKind = redis && 'url' in redis ? 'redis' : 'embedded';
  const store = options.store
    ? await options.store(now)
    : redis && 'url' in redis
      ? await createRedisStore({ url: redis.url, keyPrefix: `mcpgw-test-${randomBytes(6).toString('hex')}:` })
      : await createEmbeddedStore({ now });
  const provider = config.provider;
  const needsMembership = provider.type === 'github' && provider.orgs.length + provider.teams.length > 0;
  const upstream = options.upstream
    ? await options.upstream(config, store)
    : createGitHubLogin(
        createGitHubUpstream({
          baseUrl: github.url,
          clientId: 'test-client-id',
          clientSecret: 'test-client-secret',
          scope: needsMembership ? GITHUB_SCOPE_WITH_ORGS : DEFAULT_GITHUB_SCOPE,
        }),
        gatewayUrls(config).callback,
        needsMembership,
      );
  const project = tempProjectDir();
  const gateway = await startGateway(
    {
      config,
      store,
      keys,
      upstream,
      logger: options.logger ?? silentLogger(),
      projectDir: project.dir,
      now,
      ...(options.cimd ? { cimd: options.cimd } : {}),
      ...(options.adminToken ? { adminToken: options.adminToken } : {}),
    },
    { host: '127.0.0.1', port },
  );
  return {
    storeKind,
    gateway,
    github,
    config,
    urls: gatewayUrls(config),
    keys,
    store,
    advance(ms) {
      offset += ms;
    },
    async close() {
      await gateway.close();
      await github.close();
      if (redis && 'url' in redis) await redis.stop();
      project.remove();
    },
  };
}
