import { z } from 'zod';
import type { ClientMetadata, ClientRecord } from './client-registry.js';
import { OAuthError } from '../oauth-error.js';
import { DISPLAY_TEXT_MESSAGE, isDisplaySafe } from './display-text.js';
import { APPLICATION_TYPES, APPLICATION_TYPE_MESSAGE, redirectUriProblem } from './redirect-uri-policy.js';

// Every free-text member below ends up in front of a person (consent page, terminal, `clients
// list`), so each refuses what could disguise it (display-text.ts), not only control characters.
const displayed = <T extends z.ZodString | z.ZodURL>(schema: T) => schema.refine(isDisplaySafe, DISPLAY_TEXT_MESSAGE);
const httpsUrl = displayed(z.url({ protocol: /^https$/ }).max(2000));

/** RFC 7591 §2 client metadata; unknown fields are ignored (§3.1.1), known ones validated one by one. */
const clientMetadataSchema = z.object({
  redirect_uris: z.array(z.string().max(2000)).min(1, 'at least one redirect URI is required').max(20),
  token_endpoint_auth_method: z.enum(['none', 'client_secret_basic', 'client_secret_post']).optional(),
  application_type: z.enum(APPLICATION_TYPES, { message: APPLICATION_TYPE_MESSAGE }).optional(),
  grant_types: z
    .array(z.enum(['authorization_code', 'refresh_token'], { message: 'only authorization_code and refresh_token are supported' }))
    .min(1)
    .optional(),
  response_types: z
    .array(z.literal('code', { message: 'only the code response type is supported' }))
    .min(1)
    .optional(),
  // Checked before trimming: trim() would silently drop a leading BOM or trailing U+2028.
  client_name: displayed(z.string()).trim().min(1).max(200).optional(),
  client_uri: httpsUrl.optional(),
  logo_uri: httpsUrl.optional(),
  scope: displayed(z.string().max(1000)).optional(),
  software_id: displayed(z.string().max(200)).optional(),
  software_version: displayed(z.string().max(100)).optional(),
});

/** Validates a registration (RFC 7591) or update (RFC 7592) body into stored metadata; client mistakes become OAuthErrors. */
export function parseClientMetadata(body: unknown): ClientMetadata {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new OAuthError('invalid_client_metadata', 'the body must be a JSON object');
  // Clients send `"client_uri": null` for "not set"; treat it as absent rather than failing them.
  const present = Object.fromEntries(Object.entries(body).filter(([, v]) => v !== null));
  const parsed = clientMetadataSchema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join('.');
    throw new OAuthError(field.startsWith('redirect_uris') ? 'invalid_redirect_uri' : 'invalid_client_metadata', `${field}: ${issue.message}`);
  }
  const meta = parsed.data;
  for (const uri of meta.redirect_uris) {
    const problem = redirectUriProblem(uri, meta.application_type);
    if (problem) throw new OAuthError('invalid_redirect_uri', `redirect URI ${uri.slice(0, 200)} ${problem}`);
  }
  // Most MCP clients omit grant_types yet expect refresh tokens; RFC 7591's default (code only) would log them out hourly.
  const grantTypes = meta.grant_types ?? ['authorization_code', 'refresh_token'];
  if (!grantTypes.includes('authorization_code')) throw new OAuthError('invalid_client_metadata', 'grant_types must include authorization_code');
  return {
    redirectUris: [...new Set(meta.redirect_uris)],
    grantTypes: [...new Set(grantTypes)],
    responseTypes: ['code'],
    // RFC 7591 §2 defaults to client_secret_basic when the field is absent.
    tokenEndpointAuthMethod: meta.token_endpoint_auth_method ?? 'client_secret_basic',
    ...(meta.client_name === undefined ? {} : { clientName: meta.client_name }),
    ...(meta.client_uri === undefined ? {} : { clientUri: meta.client_uri }),
    ...(meta.logo_uri === undefined ? {} : { logoUri: meta.logo_uri }),
    ...(meta.scope === undefined ? {} : { scope: meta.scope }),
    ...(meta.application_type === undefined ? {} : { applicationType: meta.application_type }),
  };
}

/**
 * RFC 7591 §3.2.1 / RFC 7592 §3: the registered metadata; never `null`, timestamps as integers.
 * `application_type` only when the client stated it: echoing OIDC's default "web" to a 2025 client
 * that registered `cursor://` would make its next RFC 7592 PUT of this very document fail.
 */
export function clientInformationResponse(
  record: ClientRecord,
  extra: { clientSecret?: string; registrationAccessToken?: string; registrationClientUri: string },
): Record<string, unknown> {
  return {
    client_id: record.clientId,
    client_id_issued_at: record.issuedAt,
    ...(extra.clientSecret === undefined ? {} : { client_secret: extra.clientSecret, client_secret_expires_at: 0 }),
    ...(extra.registrationAccessToken === undefined ? {} : { registration_access_token: extra.registrationAccessToken }),
    registration_client_uri: extra.registrationClientUri,
    redirect_uris: record.redirectUris,
    grant_types: record.grantTypes,
    response_types: record.responseTypes,
    token_endpoint_auth_method: record.tokenEndpointAuthMethod,
    ...(record.clientName === undefined ? {} : { client_name: record.clientName }),
    ...(record.clientUri === undefined ? {} : { client_uri: record.clientUri }),
    ...(record.logoUri === undefined ? {} : { logo_uri: record.logoUri }),
    ...(record.scope === undefined ? {} : { scope: record.scope }),
    ...(record.applicationType === undefined ? {} : { application_type: record.applicationType }),
  };
}
