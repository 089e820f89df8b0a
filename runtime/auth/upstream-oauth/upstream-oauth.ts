import { createHash } from 'node:crypto';
import { isLoopbackHost } from '../../config/loopback-host.js';
import { type GatewayConfig, type RemoteServerConfig, upstreamOAuthOf } from '../../config/schema.js';
import { GatewayError, isGatewayError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Store } from '../../store/store.js';
import { randomToken } from '../crypto-helpers.js';
import type { GatewayUrls } from '../gateway-urls.js';
import type { SealedBox } from '../sealed-box.js';
import { PENDING_AUTHORIZATION_TTL_MS, type PendingAuthorization, type UpstreamCredential, type UserIdentity } from '../tokens/grants.js';
import { createGuardedHttp, type GuardedHttp } from './guarded-http.js';
import { postForm, type UpstreamPost } from './token-endpoint-post.js';
import { obtainUpstreamClient, type UpstreamClient, upstreamClientIdMetadataDocument } from './upstream-client.js';
import { discoverUpstreamAuthorization, type UpstreamAuthorization } from './upstream-discovery.js';
import { createUpstreamTokenVault, type UpstreamTokenVault } from './upstream-token-vault.js';

/** Where the upstream sends the browser back after its consent (one callback for every server: the state names the trip). */
export const UPSTREAM_CALLBACK_PATH = '/upstream/callback';

/** The page a user opens to connect a remote server with `oauth` again (`/upstream/connect/NAME`): the link of a URL-mode elicitation. */
export const UPSTREAM_CONNECT_PATH = '/upstream/connect';

/** The path of `server`'s connect page. */
export function upstreamConnectPath(server: string): string {
  return `${UPSTREAM_CONNECT_PATH}/${encodeURIComponent(server)}`;
}

/** The connect page of `server` at this gateway. */
export function upstreamConnectUrl(issuer: string, server: string): URL {
  return new URL(upstreamConnectPath(server), issuer);
}

/**
 * A user's trip to a remote server's own consent: part of an MCP client's authorization at the
 * gateway (paused until it comes back), or on its own from the connect page (URL elicitation).
 */
export type UpstreamTrip = AuthorizationTrip | ConnectTrip;

/** An MCP client's authorization paused for the trip. */
export interface AuthorizationTrip {
  server: string;
  pending: PendingAuthorization;
  user: UserIdentity;
  /** The gateway's own upstream credential of the login (GitHub's token for org re-checks), carried to the code. */
  upstream?: UpstreamCredential | undefined;
}

/** A trip from the connect page: nothing to finish afterwards but the page saying so. */
export interface ConnectTrip {
  server: string;
  user: UserIdentity;
  /** The login cookie's hash of the browser that opened the page (login-browser.ts): the callback must come back to it. */
  browserHash: string;
}

export function isConnectTrip(trip: UpstreamTrip): trip is ConnectTrip {
  return !('pending' in trip);
}

/** How the upstream answered the trip: tokens kept, or the user (or the upstream) said no. */
export type TripOutcome =
  | { trip: UpstreamTrip; connected: true }
  | { trip: UpstreamTrip; connected: false; error: string; description: string }
  | { trip: UpstreamTrip; connected: false; error: 'other_browser'; description: string };

export interface UpstreamOAuth {
  /** Whether NAME is a remote server with `oauth` (this config's). */
  covers(server: string | undefined): server is string;
  readonly vault: UpstreamTokenVault;
  /**
   * The user's upstream access token for NAME, refreshed when due, or undefined when the user
   * must authorize again (never connected, or the upstream refused the grant). Throws
   * ERR_UPSTREAM_UNREACHABLE / ERR_UPSTREAM_BAD_RESPONSE when the upstream cannot say now.
   */
  usableToken(user: string, server: string): Promise<string | undefined>;
  /** Where to send the browser for the trip: discovery, the gateway's client there, PKCE; the trip is kept until the callback. */
  start(trip: UpstreamTrip): Promise<URL>;
  /**
   * The upstream's redirect back: the trip it belongs to (single use), with the code exchanged and
   * the tokens kept. `admit` sees the trip first (the callback came back to the browser that
   * started it): a refused one is consumed, its code never exchanged.
   */
  finish(query: Readonly<Record<string, unknown>>, admit: (trip: UpstreamTrip) => boolean): Promise<TripOutcome>;
  /** The Client ID Metadata Document the gateway serves for NAME (`/.well-known/oauth-client/NAME.json`), or undefined. */
  clientMetadataDocument(server: string): Record<string, unknown> | undefined;
}

export interface UpstreamOAuthOptions {
  /** The config now (a reload may add or remove servers). */
  config: () => GatewayConfig;
  urls: GatewayUrls;
  store: Store;
  sealedBox: SealedBox;
  logger: Logger;
  now: () => number;
  /**
   * Every upstream request goes through one of these (the CIMD resolver's SSRF guard, size cap,
   * timeout): `private` for a server whose configured URL is itself on a loopback host (the
   * operator chose it) or when `clients.allowPrivateMetadataHosts` is set, `public` otherwise.
   */
  http: { public: GuardedHttp; private: GuardedHttp };
  /** Secrets of pre-registered clients by server (`.secrets/servers/NAME.oauth-client-secret`). */
  clientSecrets: ReadonlyMap<string, string>;
}

/** Discovery results are kept this long: an upstream that moves its endpoints is seen within the hour. */
const DISCOVERY_TTL_MS = 3_600_000;

type StoredTrip = UpstreamTrip & {
  verifier: string;
  issuer: string;
  /** Whether the authorization server promised `iss` in its responses (RFC 9207). */
  issRequired: boolean;
};

const tripKey = (state: string): string => `upstream-trip:${state}`;

/**
 * Per-user authorization at remote MCP servers that have their own OAuth (servers.NAME.oauth).
 * The gateway is the OAuth client there: it discovers the upstream's authorization server
 * (upstream-discovery.ts), gets a client (upstream-client.ts), sends the user's browser to its
 * consent once as part of the MCP client's own authorization at the gateway, and keeps the
 * tokens per (user, server) in the vault (upstream-token-vault.ts), which refreshes them.
 */
export function createUpstreamOAuth(options: UpstreamOAuthOptions): UpstreamOAuth {
  const { config, urls, store, sealedBox, logger, now, http, clientSecrets } = options;
  const log = logger.child({ component: 'upstream-oauth' });
  const httpFor = (remote: RemoteServerConfig): GuardedHttp =>
    isLoopbackHost(remote.url.hostname) || config().clients.allowPrivateMetadataHosts ? http.private : http.public;
  const vault = createUpstreamTokenVault({ store, sealedBox, logger: log, now, post: guardedUpstreamPost(config, http) });
  const redirectUri = new URL(UPSTREAM_CALLBACK_PATH, urls.issuer);
  const discovered = new Map<string, { at: number; value: Promise<UpstreamAuthorization> }>();

  const serverOf = (server: string): RemoteServerConfig | undefined => {
    const { servers } = config();
    const entry = Object.hasOwn(servers, server) ? servers[server] : undefined;
    return entry !== undefined && 'url' in entry && entry.oauth !== undefined ? entry : undefined;
  };

  function discover(server: string, remote: RemoteServerConfig): Promise<UpstreamAuthorization> {
    const hit = discovered.get(server);
    if (hit !== undefined && now() - hit.at < DISCOVERY_TTL_MS) return hit.value;
    const value = discoverUpstreamAuthorization(remote.url, { http: httpFor(remote) });
    // A failure is not kept: the next login asks again.
    value.catch(() => discovered.delete(server));
    discovered.set(server, { at: now(), value });
    return value;
  }

  function client(server: string, remote: RemoteServerConfig, authorization: UpstreamAuthorization): Promise<UpstreamClient> {
    const clientId = upstreamOAuthOf(remote)?.clientId;
    return obtainUpstreamClient(
      {
        authorization,
        publicUrl: new URL(urls.issuer),
        server,
        redirectUri,
        ...(clientId === undefined ? {} : { preRegistered: { clientId, clientSecret: clientSecrets.get(server) } }),
      },
      { store, sealedBox, http: httpFor(remote), now },
    );
  }

  return {
    covers: (server): server is string => server !== undefined && serverOf(server) !== undefined,
    vault,

    async usableToken(user, server) {
      try {
        return await vault.accessToken(user, server);
      } catch (err) {
        if (isGatewayError(err) && (err.code === 'ERR_UPSTREAM_NOT_CONNECTED' || err.code === 'ERR_UPSTREAM_REAUTH_REQUIRED')) return undefined;
        throw err;
      }
    },

    async start(trip) {
      const remote = serverOf(trip.server);
      if (remote === undefined) throw new TypeError(`upstream-oauth: ${trip.server} has no oauth`);
      const authorization = await discover(trip.server, remote);
      const gatewayClient = await client(trip.server, remote, authorization);
      const state = randomToken(32);
      const verifier = randomToken(48);
      const stored: StoredTrip = {
        ...trip,
        verifier,
        issuer: authorization.issuer,
        issRequired: authorization.authorizationResponseIssParameterSupported,
      };
      await store.set(tripKey(state), stored, { ttlMs: PENDING_AUTHORIZATION_TTL_MS });
      const url = new URL(authorization.authorizationEndpoint);
      const scopes = upstreamOAuthOf(remote)?.scopes ?? authorization.challengedScopes ?? authorization.resourceScopesSupported;
      const params: Record<string, string> = {
        response_type: 'code',
        client_id: gatewayClient.clientId,
        redirect_uri: redirectUri.href,
        state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        // RFC 8707: the token is for this MCP server alone.
        resource: authorization.resource,
        ...(scopes !== undefined && scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
      };
      for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
      log.info({
        event: 'upstream_authorization_started',
        server: trip.server,
        login: trip.user.login,
        issuer: authorization.issuer,
        client: gatewayClient.source,
      });
      return url;
    },

    async finish(query, admit) {
      const text = (name: string): string | undefined => {
        const value = query[name];
        return typeof value === 'string' && value.length <= 4096 ? value : undefined;
      };
      const state = text('state');
      const stored = state === undefined ? undefined : await store.take<StoredTrip>(tripKey(state));
      if (stored === undefined) {
        throw new GatewayError('ERR_UPSTREAM_OAUTH_STATE', 'this sign-in at the remote server expired or was already used', {
          hint: 'start again from your MCP client (it opens the gateway login again)',
        });
      }
      const { verifier, issuer, issRequired, ...rest } = stored;
      const trip = rest as UpstreamTrip;
      if (!admit(trip)) return { trip, connected: false, error: 'other_browser', description: 'this sign-in was started in another browser' };
      // RFC 9207 §2.4: an authorization server that sends `iss` must be the one asked; one that promised it must send it.
      const iss = text('iss');
      if ((iss !== undefined && iss !== issuer) || (iss === undefined && issRequired)) {
        log.warn({ event: 'upstream_authorization_mixup', server: trip.server, expected: issuer, got: iss ?? null });
        return {
          trip,
          connected: false,
          error: 'access_denied',
          description: `the answer from ${trip.server}'s sign-in did not come from its authorization server`,
        };
      }
      const error = text('error');
      if (error !== undefined) {
        const description = (text('error_description') ?? '').replace(/[^\x20-\x7E]/g, '').slice(0, 200);
        log.info({ event: 'upstream_authorization_refused', server: trip.server, login: trip.user.login, error: error.slice(0, 64) });
        return {
          trip,
          connected: false,
          error: error === 'access_denied' ? 'access_denied' : 'server_error',
          description: `${trip.server} said ${error.slice(0, 64)}${description ? `: ${description}` : ''}`,
        };
      }
      const code = text('code');
      if (code === undefined) return { trip, connected: false, error: 'server_error', description: `${trip.server}'s sign-in came back without a code` };
      const remote = serverOf(trip.server);
      if (remote === undefined) return { trip, connected: false, error: 'server_error', description: `${trip.server} no longer uses per-user OAuth` };
      const authorization = await discover(trip.server, remote);
      const gatewayClient = await client(trip.server, remote, authorization);
      const credentials = { clientId: gatewayClient.clientId, clientSecret: gatewayClient.clientSecret };
      const tokenEndpoint = new URL(authorization.tokenEndpoint);
      const reply = await postForm(
        (url, init) => httpFor(remote).request(url, init),
        tokenEndpoint,
        { grant_type: 'authorization_code', code, redirect_uri: redirectUri.href, code_verifier: verifier, resource: authorization.resource },
        credentials,
        `${trip.server}'s authorization server`,
      );
      if (reply.status !== 200) {
        const upstreamError =
          typeof (reply.body as { error?: unknown } | undefined)?.error === 'string'
            ? (reply.body as { error: string }).error.slice(0, 64)
            : `HTTP ${reply.status}`;
        log.warn({ event: 'upstream_code_exchange_failed', server: trip.server, status: reply.status, error: upstreamError });
        return { trip, connected: false, error: 'server_error', description: `${trip.server}'s authorization server refused the code (${upstreamError})` };
      }
      await vault.save(trip.user.sub, trip.server, reply.body, {
        ...credentials,
        issuer,
        tokenEndpoint,
        ...(authorization.revocationEndpoint === undefined ? {} : { revocationEndpoint: new URL(authorization.revocationEndpoint) }),
        resource: new URL(authorization.resource),
      });
      log.info({ event: 'upstream_connected', server: trip.server, login: trip.user.login, sub: trip.user.sub, issuer });
      return { trip, connected: true };
    },

    clientMetadataDocument(server) {
      if (serverOf(server) === undefined) return undefined;
      return { ...upstreamClientIdMetadataDocument({ publicUrl: new URL(urls.issuer), server, redirectUri }) };
    },
  };
}

/**
 * The token and revocation requests of the vault, through the SSRF guard. Their endpoints come
 * from metadata discovery already checked; a loopback one only exists where the server's own
 * URL is loopback too, so it is allowed as there.
 */
export function guardedUpstreamPost(
  config: GatewayConfig | (() => GatewayConfig),
  http: UpstreamOAuthOptions['http'] = { public: createGuardedHttp(), private: createGuardedHttp({ allowPrivateNetworks: true }) },
): UpstreamPost {
  const current = typeof config === 'function' ? config : () => config;
  return (url, init) => (isLoopbackHost(url.hostname) || current().clients.allowPrivateMetadataHosts ? http.private : http.public).request(url, init);
}
