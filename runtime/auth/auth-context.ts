import type { GatewayConfig } from '../config/schema.js';
import { parseDuration } from '../config/duration.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { createAllowlist } from './allowlist.js';
import { createClientRegistry, type ClientRegistry } from './client-registry.js';
import { createConsentStore, type ConsentStore } from './consents.js';
import { gatewayUrls, type GatewayUrls } from './gateway-urls.js';
import { createGrantStore, type GrantStore } from './grants.js';
import { createTokenFamilies, type TokenFamilies } from './token-families.js';
import { createAuditLog, type AuditLog } from './audit-log.js';
import type { KeySet } from './signing-keys.js';
import type { UpstreamLogin } from './upstream/upstream-login.js';

/** The collaborators every auth endpoint uses, built once at start. */
export interface AuthContext {
  config: GatewayConfig;
  urls: GatewayUrls;
  store: Store;
  keys: KeySet;
  clients: ClientRegistry;
  grants: GrantStore;
  consents: ConsentStore;
  families: TokenFamilies;
  audit: AuditLog;
  isAllowed(login: string): boolean;
  upstream: UpstreamLogin;
  logger: Logger;
  now(): number;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  refreshReuseGraceMs: number;
  /** Cookies get `Secure` (and the `__Host-` prefix) when the public URL is https. */
  secureCookies: boolean;
}

export interface AuthDeps {
  config: GatewayConfig;
  store: Store;
  keys: KeySet;
  upstream: UpstreamLogin;
  logger: Logger;
  now?: () => number;
}

export function createAuthContext({ config, store, keys, upstream, logger, now = Date.now }: AuthDeps): AuthContext {
  const refreshTokenTtlMs = parseDuration(config.tokens.refreshTokenTtl)!;
  return {
    config,
    urls: gatewayUrls(config),
    store,
    keys,
    clients: createClientRegistry(store, now, { unusedTtlMs: parseDuration(config.clients.unusedTtl)!, idleTtlMs: parseDuration(config.clients.idleTtl)! }),
    grants: createGrantStore(store),
    consents: createConsentStore(store),
    families: createTokenFamilies(store, { now, refreshTtlMs: refreshTokenTtlMs }),
    audit: createAuditLog(logger),
    isAllowed: createAllowlist(config.allowedUsers),
    upstream,
    logger,
    now,
    accessTokenTtlMs: parseDuration(config.tokens.accessTokenTtl)!,
    refreshTokenTtlMs,
    refreshReuseGraceMs: parseDuration(config.tokens.refreshReuseGrace)!,
    secureCookies: config.publicUrl.startsWith('https:'),
  };
}
