import { z } from 'zod';
import { DISPLAY_TEXT_MESSAGE, isDisplaySafe } from '../display-text.js';
import { APPLICATION_TYPES, APPLICATION_TYPE_MESSAGE, redirectUriProblem } from '../redirect-uri-policy.js';
import type { ClientRecord } from '../client-registry.js';

/** What the gateway keeps of a Client ID Metadata Document: a registered client's public fields, always a public client. */
export type CimdClient = Pick<
  ClientRecord,
  'clientId' | 'clientName' | 'clientUri' | 'logoUri' | 'redirectUris' | 'grantTypes' | 'responseTypes' | 'scope' | 'applicationType'
> & {
  tokenEndpointAuthMethod: 'none';
};

const SUPPORTED_GRANT_TYPES = new Set(['authorization_code', 'refresh_token']);
// CIMD §4.1: no method based on a shared symmetric secret can work, since none was ever exchanged.
const SHARED_SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);
// RFC 7517 §§6.2.2, 6.3.2, 6.4.1: members that only a private or symmetric JWK carries.
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

// The document's name and URLs reach the consent page and the operator's terminal like a
// registered client's: the same refusal of disguising characters (display-text.ts).
const httpsUrl = z
  .url({ protocol: /^https$/, message: 'must be an https URL' })
  .max(2000)
  .refine(isDisplaySafe, DISPLAY_TEXT_MESSAGE);

/**
 * RFC 7591 §2 client metadata as a CIMD document carries it (CIMD §4). Unknown members are ignored:
 * one document serves every authorization server the client talks to, so it may list grant types
 * or members meant for others.
 */
const documentSchema = z.object({
  client_id: z.string(),
  redirect_uris: z.array(z.string().max(2000)).min(1, 'at least one redirect URI is required').max(20),
  token_endpoint_auth_method: z.string().max(200).optional(),
  // Not ignored like unknown members: it decides which redirect URIs are acceptable, as at registration.
  application_type: z.enum(APPLICATION_TYPES, { message: APPLICATION_TYPE_MESSAGE }).optional(),
  grant_types: z.array(z.string().max(200)).min(1).max(20).optional(),
  response_types: z.array(z.string().max(200)).min(1).max(20).optional(),
  client_name: z.string().refine(isDisplaySafe, DISPLAY_TEXT_MESSAGE).trim().min(1).max(200).optional(),
  client_uri: httpsUrl.optional(),
  logo_uri: httpsUrl.optional(),
  scope: z.string().max(1000).refine(isDisplaySafe, DISPLAY_TEXT_MESSAGE).optional(),
  jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())) }).optional(),
});

/**
 * Checks a parsed JSON value against CIMD and the gateway's client policy and returns the client,
 * or throws a `DocumentProblem` saying, with the member's name, what is wrong.
 */
export function parseCimdDocument(json: unknown, clientId: string): CimdClient {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new DocumentProblem('the document is not a JSON object');
  // Clients write `"logo_uri": null` for "not set"; the registration endpoint accepts that too.
  const members = Object.fromEntries(Object.entries(json).filter(([, v]) => v !== null));

  // CIMD §4: the document's client_id MUST equal the URL it was fetched from, compared as strings.
  if (members['client_id'] !== clientId) {
    const found = typeof members['client_id'] === 'string' ? JSON.stringify(members['client_id'].slice(0, 300)) : 'no string client_id';
    throw new DocumentProblem(`client_id: the document names ${found}, but it must be exactly ${JSON.stringify(clientId)}`);
  }
  // CIMD §4.1: a document cannot carry a shared secret or private key material.
  for (const member of ['client_secret', 'client_secret_expires_at']) {
    if (member in members) throw new DocumentProblem(`${member}: a client metadata document must not contain a client secret (CIMD §4.1)`);
  }

  const parsed = documentSchema.safeParse(members);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DocumentProblem(`${issue.path.map(String).join('.')}: ${issue.message}`);
  }
  const doc = parsed.data;

  doc.jwks?.keys.forEach((key, i) => {
    const secret = PRIVATE_JWK_MEMBERS.find((m) => m in key);
    if (secret !== undefined) throw new DocumentProblem(`jwks.keys.${i}.${secret}: private or symmetric key material must not be published (CIMD §4.1)`);
  });

  // RFC 7591 §2 would default to client_secret_basic, which CIMD §4.1 rules out; a document that
  // says nothing is a public client.
  const method = doc.token_endpoint_auth_method ?? 'none';
  if (SHARED_SECRET_METHODS.has(method)) {
    throw new DocumentProblem(`token_endpoint_auth_method: ${method} needs a shared secret, which a client metadata document cannot establish (CIMD §4.1)`);
  }
  if (method !== 'none')
    throw new DocumentProblem(`token_endpoint_auth_method: ${method.slice(0, 100)} is not supported here; this gateway accepts only public clients ("none")`);

  doc.redirect_uris.forEach((uri, i) => {
    const problem = redirectUriProblem(uri, doc.application_type);
    if (problem !== undefined) throw new DocumentProblem(`redirect_uris.${i}: ${JSON.stringify(uri.slice(0, 200))} ${problem}`);
  });

  // Same default as the registration endpoint, so CIMD and DCR clients get refresh tokens alike.
  const grantTypes = (doc.grant_types ?? ['authorization_code', 'refresh_token']).filter((g) => SUPPORTED_GRANT_TYPES.has(g));
  if (!grantTypes.includes('authorization_code')) throw new DocumentProblem('grant_types: must include authorization_code');
  const responseTypes = doc.response_types ?? ['code'];
  if (!responseTypes.includes('code')) throw new DocumentProblem('response_types: must include code');

  return {
    clientId,
    redirectUris: [...new Set(doc.redirect_uris)],
    grantTypes: [...new Set(grantTypes)],
    responseTypes: ['code'],
    tokenEndpointAuthMethod: 'none',
    ...(doc.client_name === undefined ? {} : { clientName: doc.client_name }),
    ...(doc.client_uri === undefined ? {} : { clientUri: doc.client_uri }),
    ...(doc.logo_uri === undefined ? {} : { logoUri: doc.logo_uri }),
    ...(doc.scope === undefined ? {} : { scope: doc.scope }),
    ...(doc.application_type === undefined ? {} : { applicationType: doc.application_type }),
  };
}

/** A document that was fetched but does not describe a client we can accept. */
export class DocumentProblem extends Error {
  override readonly name = 'DocumentProblem';
}
