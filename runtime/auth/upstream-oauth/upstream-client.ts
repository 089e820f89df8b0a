import { z } from 'zod';
import { GatewayError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { clientIdUrlProblem } from '../clients/cimd/client-id-url.js';
import type { SealedBox } from '../sealed-box.js';
import { upstreamClientIdUrl, upstreamClientMetadata } from './client-metadata-document.js';
import { type DynamicRegistration, registerUpstreamClient, type UpstreamTokenEndpointAuthMethod } from './dynamic-registration.js';
import type { GuardedHttp } from './guarded-http.js';
import type { UpstreamAuthorization } from './upstream-authorization.js';

export { upstreamClientIdMetadataDocument, upstreamClientIdUrl } from './client-metadata-document.js';
export type { UpstreamTokenEndpointAuthMethod } from './dynamic-registration.js';

/**
 * The gateway's client at a remote MCP server's authorization server, obtained in the order
 * MCP 2025-11-25 "Client Registration Approaches" gives: pre-registered credentials, else a
 * Client ID Metadata Document, else RFC 7591 dynamic registration, else an error that says how
 * to pre-register. Client IDs are per authorization server (RFC 6749 §2.2), so a registration
 * is remembered per server and issuer.
 */
export interface UpstreamClient {
  source: 'pre-registered' | 'client-id-metadata-document' | 'dynamic-registration';
  clientId: string;
  clientSecret: string | undefined;
  tokenEndpointAuthMethod: UpstreamTokenEndpointAuthMethod;
}

export interface UpstreamClientRequest {
  authorization: Pick<UpstreamAuthorization, 'issuer' | 'clientIdMetadataDocumentSupported' | 'registrationEndpoint'>;
  /** The gateway's public URL: its origin hosts the Client ID Metadata Document. */
  publicUrl: URL;
  /** The configured server name. */
  server: string;
  /** The gateway's callback for this server's logins; the only redirect URI registered. */
  redirectUri: URL;
  /** From `mcp-gateway add-server --client-id ID --client-secret-env VAR`. */
  preRegistered?: { clientId: string; clientSecret?: string | undefined } | undefined;
}

export interface UpstreamClientDeps {
  /** Remembers a dynamic registration, so the next start (and every replica) reuses it. */
  store: Store;
  /** Seals a client secret and registration access token before they reach the store. */
  sealedBox: SealedBox;
  /** The SSRF-guarded HTTP client the registration request goes through. */
  http: GuardedHttp;
  now?: () => number;
}

/** One registration per server and authorization server (RFC 6749 §2.2: client IDs are the issuer's). */
export function upstreamClientStoreKey(server: string, issuer: string): string {
  return `upstream-client:${server}:${issuer}`;
}

/** What the store holds: secrets sealed with the key as associated data, so a value cannot be moved to another entry. */
const storedRegistration = z.object({
  v: z.literal(1),
  clientId: z.string().min(1),
  sealedClientSecret: z.string().optional(),
  clientSecretExpiresAt: z.number(),
  tokenEndpointAuthMethod: z.enum(['none', 'client_secret_basic', 'client_secret_post']),
  redirectUris: z.array(z.string()),
  sealedRegistrationAccessToken: z.string().optional(),
  registrationClientUri: z.string().optional(),
  registeredAt: z.number(),
});
type StoredRegistration = z.infer<typeof storedRegistration>;

export async function obtainUpstreamClient(
  request: UpstreamClientRequest,
  { store, sealedBox, http, now = Date.now }: UpstreamClientDeps,
): Promise<UpstreamClient> {
  const { authorization, publicUrl, server, redirectUri, preRegistered } = request;

  if (preRegistered !== undefined) {
    if (preRegistered.clientId === '') throw new TypeError('obtainUpstreamClient: preRegistered.clientId is empty');
    const secret = preRegistered.clientSecret;
    return {
      source: 'pre-registered',
      clientId: preRegistered.clientId,
      clientSecret: secret,
      tokenEndpointAuthMethod: secret === undefined ? 'none' : 'client_secret_basic',
    };
  }

  // A CIMD client_id is fetched by the authorization server, so it must be a public https URL
  // (CIMD §3); a gateway on http://localhost falls through to registration.
  const clientIdUrl = upstreamClientIdUrl(publicUrl, server);
  if (authorization.clientIdMetadataDocumentSupported && clientIdUrlProblem(clientIdUrl) === undefined) {
    return { source: 'client-id-metadata-document', clientId: clientIdUrl, clientSecret: undefined, tokenEndpointAuthMethod: 'none' };
  }

  const preRegisterHint =
    `Register a client for the gateway at ${authorization.issuer} by hand, with redirect URI ${redirectUri.href}, and pass ` +
    `\`--client-id ID --client-secret-env VAR\` to \`mcp-gateway add-server\` for ${server}.`;
  if (authorization.registrationEndpoint === undefined) {
    throw new GatewayError(
      'ERR_UPSTREAM_OAUTH_CLIENT',
      `the authorization server ${authorization.issuer} of ${server} offers neither Client ID Metadata Documents nor dynamic client registration`,
      { hint: preRegisterHint },
    );
  }

  const key = upstreamClientStoreKey(server, authorization.issuer);
  const associated = (field: string): string => `${key}:${field}`;
  const stored = await store.get(key);
  const reused = stored === undefined ? undefined : usable(stored);
  if (reused !== undefined) return reused;

  const registration = await registerUpstreamClient({
    registrationEndpoint: authorization.registrationEndpoint,
    metadata: upstreamClientMetadata(server, redirectUri),
    http,
    hint: preRegisterHint,
  });
  const record = toRecord(registration);
  if (stored === undefined) {
    // Two replicas starting together both register; the first to store wins and both use its
    // client, so tokens one replica obtained can be refreshed by the other. The loser's
    // registration is simply never used.
    if (!(await store.setIfAbsent(key, record))) {
      const winner = await store.get(key);
      const theirs = winner === undefined ? undefined : usable(winner);
      if (theirs !== undefined) return theirs;
      await store.set(key, record);
    }
  } else {
    // Replacing an entry that can no longer be used (another redirect URI, an expired secret, a
    // rotated sealing key). Two replicas doing this at once may each keep their own client until
    // the next start; rare, and each one's tokens still work where they were obtained.
    await store.set(key, record);
  }
  return fromRegistration(registration);

  /** The stored registration, when it is intact, for this redirect URI, and its secret is still valid and opens. */
  function usable(value: unknown): UpstreamClient | undefined {
    const parsed = storedRegistration.safeParse(value);
    if (!parsed.success) return undefined;
    const entry = parsed.data;
    if (!entry.redirectUris.includes(redirectUri.href)) return undefined;
    if (entry.clientSecretExpiresAt !== 0 && entry.clientSecretExpiresAt * 1000 <= now()) return undefined;
    let clientSecret: string | undefined;
    if (entry.sealedClientSecret !== undefined) {
      clientSecret = sealedBox.open(entry.sealedClientSecret, associated('client_secret'));
      if (clientSecret === undefined) return undefined;
    }
    return { source: 'dynamic-registration', clientId: entry.clientId, clientSecret, tokenEndpointAuthMethod: entry.tokenEndpointAuthMethod };
  }

  function toRecord(registration: DynamicRegistration): StoredRegistration {
    const record: StoredRegistration = {
      v: 1,
      clientId: registration.clientId,
      clientSecretExpiresAt: registration.clientSecretExpiresAt,
      tokenEndpointAuthMethod: registration.tokenEndpointAuthMethod,
      redirectUris: registration.redirectUris,
      registeredAt: now(),
    };
    if (registration.clientSecret !== undefined) record.sealedClientSecret = sealedBox.seal(registration.clientSecret, associated('client_secret'));
    if (registration.registrationAccessToken !== undefined) {
      record.sealedRegistrationAccessToken = sealedBox.seal(registration.registrationAccessToken, associated('registration_access_token'));
    }
    if (registration.registrationClientUri !== undefined) record.registrationClientUri = registration.registrationClientUri;
    return record;
  }
}

function fromRegistration(registration: DynamicRegistration): UpstreamClient {
  return {
    source: 'dynamic-registration',
    clientId: registration.clientId,
    clientSecret: registration.clientSecret,
    tokenEndpointAuthMethod: registration.tokenEndpointAuthMethod,
  };
}
