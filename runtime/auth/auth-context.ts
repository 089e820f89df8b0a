import { accessGroupsOf } from '../access/access-groups.js';
import type { GatewayConfig } from '../config/schema.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store/store.js';
import { randomBytes } from 'node:crypto';
import { createSealedBox, type SealedBox } from './sealed-box.js';
import { admittingRule, createUserPolicy, type UserPolicy } from './policy/user-policy.js';
import { createCimdResolver, type CimdResolverOptions } from './clients/cimd/cimd-resolver.js';
import { createClientRegistry, type ClientLifetimes, type ClientRegistry } from './clients/client-registry.js';
import { createConsentStore, type ConsentStore } from './consent/consents.js';
import { gatewayUrls, type GatewayUrls } from './gateway-urls.js';
import { createGrantStore, type GrantStore } from './tokens/grants.js';
import { createTokenFamilies, type TokenFamilies } from './tokens/token-families.js';
import { createAuditLog, type AuditLog } from './audit-log.js';
import { createRecentAudit, type RecentAudit } from '../logging/recent-audit.js';
import type { LiveServers } from './admin/live-servers.js';
import type { KeySet } from './tokens/signing-keys.js';
import type { UpstreamLogin } from './upstream/upstream-login.js';
import { createGuardedHttp } from './upstream-oauth/guarded-http.js';
import { createUpstreamOAuth, type UpstreamOAuth, type UpstreamOAuthOptions } from './upstream-oauth/upstream-oauth.js';

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
  /** Who may log in: allowed users, GitHub orgs and teams, email domains. */
  policy: UserPolicy;
  /** The groups servers' `access` rules name: a login records those the user proved (access-groups.ts). */
  accessGroups: ReadonlySet<string>;
  /** Is the rule that admitted this user (token claim `ab`, default `user:<login>`) still configured? */
  stillAllowed(user: { login: string; allowedBy?: string | undefined }): boolean;
  /** Seals upstream credentials kept in the store (key in .secrets/state-key). */
  sealedBox: SealedBox;
  upstream: UpstreamLogin;
  logger: Logger;
  now(): number;
  accessTokenTtlMs: number;
  refreshTokenTtlMs: number;
  refreshReuseGraceMs: number;
  clientLifetimes: ClientLifetimes;
  /** Bearer secret of the admin API (`/admin/*`); without it there is no admin API. */
  adminToken?: string;
  metrics?: GatewayMetrics;
  /** The last audit events (auth and, in `serve`, tool calls) for the admin page. */
  recentAudit: RecentAudit;
  /** The running servers, for the admin page; absent in the auth container, which runs none. */
  servers?: LiveServers;
  /**
   * Re-reads the key file (after `mcp-gateway keys rotate`); resolves true when the key set
   * changed. Rate-limited, so a flood of tokens with unknown `kid`s cannot turn into disk reads.
   */
  reloadKeys(options?: { force?: boolean }): Promise<boolean>;
  /** Cookies get `Secure` (and the `__Host-` prefix) when the public URL is https. */
  secureCookies: boolean;
  /** Remote servers with their own OAuth (servers.NAME.oauth): each user's upstream trip and tokens. */
  upstreamOAuth: UpstreamOAuth;
  /**
   * No router tells this runtime when a remote server refuses a user's upstream token (Traefik's
   * ForwardAuth cannot; MCPGW_UPSTREAM_REFUSALS=unreported): a refresh of the gateway's token,
   * which a client does after a 401, then proves the upstream grant by refreshing it.
   */
  upstreamRefusalsUnreported: boolean;
  /**
   * Takes over a reloaded config's servers and allowlist (runtime/reload/): `urls` is updated in
   * place, so the router and the endpoints holding it see the new servers at once; the policy
   * is replaced, so the next /verify and refresh check the new allowlist.
   */
  applyConfig(next: GatewayConfig): void;
}

export interface AuthDeps {
  config: GatewayConfig;
  store: Store;
  keys: KeySet;
  upstream: UpstreamLogin;
  logger: Logger;
  now?: (() => number) | undefined;
  /** Where keys come from on reload; absent for in-memory keys (the demo, tests). */
  loadKeys?: (() => Promise<KeySet>) | undefined;
  /** Overrides for the metadata-document resolver (tests: DNS, CA). */
  cimd?: Partial<CimdResolverOptions> | undefined;
  /** 32 bytes sealing upstream credentials in the store; random (per process) when absent. */
  stateKey?: Uint8Array | undefined;
  /** Bearer secret of the admin API (.secrets/admin-token, MCPGW_ADMIN_TOKEN); no admin API without it. */
  adminToken?: string | undefined;
  /** Counts auth decisions and refreshes off the audit log, and serves GET /metrics (runtime/metrics/). */
  metrics?: GatewayMetrics | undefined;
  /** Shared with the bridges' tool-call audit (runtime/gateway.ts); one of its own when absent. */
  recentAudit?: RecentAudit | undefined;
  /** The bridges of this process (serve), shown and acted on by the admin page. */
  servers?: LiveServers | undefined;
  /** Secrets of clients pre-registered at remote servers' own authorization servers, by server (.secrets/servers/NAME.oauth-client-secret). */
  upstreamClientSecrets?: ReadonlyMap<string, string> | undefined;
  /** The HTTP clients of upstream OAuth (tests: a CA for a self-signed upstream); SSRF-guarded ones by default. */
  upstreamHttp?: UpstreamOAuthOptions['http'] | undefined;
  /** See AuthContext.upstreamRefusalsUnreported (default false: serve and the built-in router report them). */
  upstreamRefusalsUnreported?: boolean | undefined;
}

const KEY_RELOAD_INTERVAL_MS = 10_000;

/** The allowlist of the config as one policy (runtime/auth/policy/user-policy.ts). */
export function policyFor(config: GatewayConfig): UserPolicy {
  const { provider } = config;
  return createUserPolicy({
    users: config.allowedUsers,
    ...(provider.type === 'github' ? { githubOrgs: provider.orgs, githubTeams: provider.teams } : {}),
    ...(provider.type === 'oidc' ? { emailDomains: provider.emailDomains } : {}),
  });
}

export function createAuthContext({
  config,
  store,
  keys,
  upstream,
  logger,
  now = Date.now,
  loadKeys,
  cimd,
  stateKey,
  adminToken,
  metrics,
  recentAudit = createRecentAudit({ now }),
  servers,
  upstreamClientSecrets = new Map(),
  upstreamHttp = { public: createGuardedHttp(), private: createGuardedHttp({ allowPrivateNetworks: true }) },
  upstreamRefusalsUnreported = false,
}: AuthDeps): AuthContext {
  const refreshTokenTtlMs = config.tokens.refreshTokenTtl;
  const clientLifetimes: ClientLifetimes = { unusedTtlMs: config.clients.unusedTtl, idleTtlMs: config.clients.idleTtl };
  const policy = policyFor(config);
  let lastReload = 0;
  let upstreamOAuth: UpstreamOAuth | undefined;
  const ctx: AuthContext = {
    upstreamRefusalsUnreported,
    config,
    urls: gatewayUrls(config),
    store,
    keys,
    clients: createClientRegistry(
      store,
      now,
      clientLifetimes,
      config.clients.metadataDocuments
        ? { resolver: createCimdResolver({ now, logger, allowPrivateNetworks: config.clients.allowPrivateMetadataHosts, ...cimd }), logger }
        : undefined,
    ),
    grants: createGrantStore(store),
    consents: createConsentStore(store),
    families: createTokenFamilies(store, { now, refreshTtlMs: refreshTokenTtlMs }),
    // Auth events name the server by its resource URL; the page filters by server name.
    audit: createAuditLog(logger, metrics, {
      record: (event, fields) => {
        const server = typeof fields['resource'] === 'string' ? ctx.urls.serverForResource(fields['resource']) : undefined;
        recentAudit.record(event, server === undefined ? fields : { ...fields, server });
      },
    }),
    ...(metrics === undefined ? {} : { metrics }),
    recentAudit,
    ...(servers === undefined ? {} : { servers }),
    policy,
    accessGroups: accessGroupsOf(config),
    // Through ctx, not the const: a reload replaces the policy.
    stillAllowed: (user) => ctx.policy.hasRule(admittingRule(user)),
    sealedBox: createSealedBox(stateKey ?? randomBytes(32)),
    upstream,
    logger,
    now,
    accessTokenTtlMs: config.tokens.accessTokenTtl,
    refreshTokenTtlMs,
    refreshReuseGraceMs: config.tokens.refreshReuseGrace,
    clientLifetimes,
    ...(adminToken === undefined ? {} : { adminToken }),
    secureCookies: config.publicUrl.protocol === 'https:',
    // Getters through ctx: a reload replaces the config, and the sealed box is the context's.
    get upstreamOAuth() {
      upstreamOAuth ??= createUpstreamOAuth({
        config: () => ctx.config,
        urls: ctx.urls,
        store,
        sealedBox: ctx.sealedBox,
        logger,
        now,
        http: upstreamHttp,
        clientSecrets: upstreamClientSecrets,
      });
      return upstreamOAuth;
    },
    applyConfig(next) {
      ctx.config = next;
      Object.assign(ctx.urls, gatewayUrls(next));
      ctx.policy = policyFor(next);
      ctx.accessGroups = accessGroupsOf(next);
    },
    async reloadKeys({ force = false } = {}) {
      if (!loadKeys || (!force && now() - lastReload < KEY_RELOAD_INTERVAL_MS)) return false;
      lastReload = now();
      try {
        const fresh = await loadKeys();
        const changed = fresh.current.kid !== ctx.keys.current.kid || fresh.byKid.size !== ctx.keys.byKid.size;
        ctx.keys = fresh;
        if (changed) logger.info({ event: 'keys_reloaded', kid: fresh.current.kid, keys: fresh.byKid.size });
        return changed;
      } catch (err) {
        logger.error({ event: 'keys_reload_failed', err: (err as Error).message }, 'could not reload the signing keys; keeping the current ones');
        return false;
      }
    },
  };
  return ctx;
}
