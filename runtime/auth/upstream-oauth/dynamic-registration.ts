import { z } from 'zod';
import { GatewayError } from '../../errors.js';
import { FetchProblem } from '../clients/cimd/pinned-fetch.js';
import { untrusted } from '../upstream/upstream-http.js';
import type { UpstreamClientMetadata } from './client-metadata-document.js';
import { type GuardedHttp, isJsonMediaType, mediaTypeOf, shortUrl } from './guarded-http.js';
import { checkUpstreamUrl } from './upstream-url.js';

/**
 * OAuth 2.0 Dynamic Client Registration (RFC 7591) at a remote MCP server's authorization
 * server, the fallback MCP 2025-11-25 keeps for servers without Client ID Metadata Documents.
 * The answer is checked before anything of it is stored: a client_id, our redirect URI if the
 * server lists redirect URIs, a client authentication method the gateway can use.
 */

export type UpstreamTokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';

export interface DynamicRegistration {
  clientId: string;
  /** Issued although a public client was asked for (servers may, RFC 7591 §3.2.1). Keep it sealed. */
  clientSecret: string | undefined;
  /** Seconds since the epoch; 0 when the secret does not expire (RFC 7591 §3.2.1). */
  clientSecretExpiresAt: number;
  tokenEndpointAuthMethod: UpstreamTokenEndpointAuthMethod;
  redirectUris: string[];
  /** RFC 7592, to update or delete the registration later. The token is a credential: keep it sealed. */
  registrationAccessToken: string | undefined;
  registrationClientUri: string | undefined;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const NO_CONTROL_CHARACTERS = /^[^\x00-\x1f\x7f]*$/;
const credential = z.string().min(1).max(4096).regex(NO_CONTROL_CHARACTERS, 'contains control characters');

const answer = z.object({
  client_id: credential,
  client_secret: credential.optional(),
  client_secret_expires_at: z.number().nonnegative().finite().optional(),
  redirect_uris: z.array(z.string()).optional(),
  grant_types: z.array(z.string()).optional(),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  registration_access_token: credential.optional(),
  registration_client_uri: z.string().optional(),
});

export async function registerUpstreamClient({
  registrationEndpoint,
  metadata,
  http,
  hint,
}: {
  registrationEndpoint: string;
  metadata: UpstreamClientMetadata;
  http: GuardedHttp;
  /** What to do instead when registration fails: pre-register a client. */
  hint: string;
}): Promise<DynamicRegistration> {
  const url = new URL(registrationEndpoint);
  const where = shortUrl(url);
  const fail = (what: string, cause?: unknown): GatewayError =>
    new GatewayError('ERR_UPSTREAM_OAUTH_CLIENT', `dynamic client registration at ${where}: ${what}`, { hint, ...(cause === undefined ? {} : { cause }) });

  let reply: Awaited<ReturnType<GuardedHttp['request']>>;
  try {
    reply = await http.request(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify(metadata),
    });
  } catch (err) {
    if (err instanceof FetchProblem) throw fail(err.message, err);
    throw err;
  }
  let body: unknown;
  try {
    body = isJsonMediaType(mediaTypeOf(reply.headers)) ? await reply.json() : undefined;
  } catch {
    body = undefined;
  }
  // RFC 7591 §3.2.1 says 201 Created; some servers answer 200, which is no reason to fail.
  if (reply.status !== 201 && reply.status !== 200) {
    throw fail(`the server refused with HTTP ${reply.status}${registrationErrorText(body)}`);
  }
  if (body === undefined) throw fail('the answer is not a JSON document');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw fail('the answer is not a JSON object');
  const parsed = answer.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw fail(`the answer is not a client information response (${issue === undefined ? 'unexpected shape' : `${issue.path.join('.')}: ${issue.message}`})`);
  }
  const doc = parsed.data;

  const [ours] = metadata.redirect_uris;
  if (doc.redirect_uris !== undefined && (ours === undefined || !doc.redirect_uris.includes(ours))) {
    throw fail(`the registered redirect_uris do not include the gateway's callback ${ours ?? ''}`);
  }
  if (doc.grant_types !== undefined && !doc.grant_types.includes('authorization_code'))
    throw fail('the registered grant_types do not include authorization_code');
  // The server may replace what was asked for (RFC 7591 §3.2.1); without a method in the answer,
  // a client that was given a secret authenticates with it the default way (RFC 7591 §2).
  const method = doc.token_endpoint_auth_method ?? (doc.client_secret === undefined ? 'none' : 'client_secret_basic');
  if (method !== 'none' && doc.client_secret === undefined) throw fail(`the server registered a ${method} client but issued no client_secret`);
  let registrationClientUri: string | undefined;
  if (doc.registration_client_uri !== undefined) {
    const check = checkUpstreamUrl(doc.registration_client_uri, { allowLoopbackHttp: http.allowLoopbackHttp });
    // Only kept for a later update or deletion (RFC 7592); a bad one is dropped rather than failing the registration.
    registrationClientUri = check.ok && check.url.origin === url.origin ? check.url.href : undefined;
  }

  return {
    clientId: doc.client_id,
    clientSecret: doc.client_secret,
    clientSecretExpiresAt: doc.client_secret_expires_at ?? 0,
    tokenEndpointAuthMethod: method,
    redirectUris: doc.redirect_uris ?? metadata.redirect_uris,
    registrationAccessToken: doc.registration_access_token,
    registrationClientUri,
  };
}

/** RFC 7591 §3.2.2: `error` and `error_description`, cleaned, for the message. */
function registrationErrorText(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const { error, error_description: description } = body as Record<string, unknown>;
  if (typeof error !== 'string') return '';
  return `: ${untrusted(error)}${typeof description === 'string' ? ` (${untrusted(description)})` : ''}`;
}
