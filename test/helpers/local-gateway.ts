import { signAccessToken } from '../../runtime/auth/tokens/access-token.js';
import { tempProjectDir } from './temp-project.js';
import { gatewayUrls, type GatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { ephemeralKeySet, type KeySet } from '../../runtime/auth/tokens/signing-keys.js';
import { createLocalLogin } from '../../runtime/auth/upstream/local-login.js';
import { parseConfig } from '../../runtime/config/load-config.js';
import { startGateway, type GatewayDeps, type RunningGateway } from '../../runtime/gateway.js';
import { silentLogger } from '../../runtime/logger.js';
import { createEmbeddedStore } from '../../runtime/store/embedded-store.js';
import { freePort } from './free-port.js';

export interface LocalGateway {
  gateway: RunningGateway;
  urls: GatewayUrls;
  keys: KeySet;
  /** An access token for `server` (audience: its endpoint URL), as the token endpoint would issue. */
  token(server: string, user?: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The embedded gateway with the local login provider (no GitHub stand-in): for tests of the MCP
 * side, which mint tokens with the gateway's own keys instead of logging in.
 */
export async function startLocalGateway(configOverrides: Record<string, unknown>, deps: Pick<GatewayDeps, 'upstreamHeaders'> = {}): Promise<LocalGateway> {
  const port = await freePort();
  const config = parseConfig(
    { publicUrl: `http://127.0.0.1:${port}`, provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice', 'bob'], ...configOverrides },
    'test config',
  );
  const urls = gatewayUrls(config);
  const keys = await ephemeralKeySet();
  const store = await createEmbeddedStore();
  const upstream = createLocalLogin({ store, user: 'alice', loginUrl: urls.localLogin, announce: () => {} });
  const project = tempProjectDir();
  const gateway = await startGateway({ config, store, keys, upstream, logger: silentLogger(), projectDir: project.dir, ...deps }, { host: '127.0.0.1', port });
  return {
    gateway,
    urls,
    keys,
    async token(server, user = 'alice') {
      const claims = { sub: user, login: user, clientId: 'test-client', audience: urls.resourceFor(server) };
      return (await signAccessToken(claims, { keys, issuer: urls.issuer, ttlMs: 3_600_000, now: Date.now() })).token;
    },
    async close() {
      await gateway.close();
      project.remove();
    },
  };
}
