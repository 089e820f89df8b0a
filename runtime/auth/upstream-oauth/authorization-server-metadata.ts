import { z } from 'zod';
import { untrusted } from '../upstream/upstream-http.js';
import { MetadataProblem, problemFromZod, SCOPE_TOKEN } from './metadata-problem.js';
import { checkUpstreamUrl } from './upstream-url.js';

/**
 * A remote MCP server's authorization server, from its RFC 8414 metadata (or an OpenID Connect
 * Discovery 1.0 document, which MCP 2025-11-25 makes clients accept too), checked before the
 * gateway registers there or sends a user's browser there. Only what the gateway uses is kept.
 */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  registrationEndpoint: string | undefined;
  revocationEndpoint: string | undefined;
  /** RFC 9207: authorization responses carry `iss`, so a response without it (or with another) is refused. */
  authorizationResponseIssParameterSupported: boolean;
  /** The server fetches Client ID Metadata Documents (MCP 2025-11-25 "Client ID Metadata Documents"). */
  clientIdMetadataDocumentSupported: boolean;
  scopesSupported: string[] | undefined;
  /** RFC 8414 §2: absent means `client_secret_basic` only. */
  tokenEndpointAuthMethodsSupported: string[];
}

export interface AuthorizationServerRules {
  allowLoopbackHttp: boolean;
  /**
   * Accept endpoints on another origin than the issuer's. Off by default: an authorization
   * endpoint elsewhere is where a phishing copy of a login page would live, and a token endpoint
   * elsewhere receives codes and client secrets. Some providers do split hosts (a login host and
   * an API host); for those, turn this on knowingly.
   */
  allowCrossOriginEndpoints: boolean;
}

const shape = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string(),
  token_endpoint: z.string(),
  registration_endpoint: z.string().optional(),
  revocation_endpoint: z.string().optional(),
  response_types_supported: z.array(z.string()).optional(),
  grant_types_supported: z.array(z.string()).optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  scopes_supported: z.array(z.string().regex(SCOPE_TOKEN, 'is not a scope token (RFC 6749 §3.3)')).optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
  client_id_metadata_document_supported: z.boolean().optional(),
});

/**
 * Throws a MetadataProblem unless `json` describes the authorization server `issuer` (the exact
 * string from the protected resource metadata) in a way the gateway can use safely.
 */
export function parseAuthorizationServerMetadata(json: unknown, issuer: string, rules: AuthorizationServerRules): AuthorizationServerMetadata {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new MetadataProblem('the document is not a JSON object');
  const parsed = shape.safeParse(json);
  if (!parsed.success) throw problemFromZod(parsed.error);
  const doc = parsed.data;

  // RFC 8414 §3.3 (and OpenID Connect Discovery §4.3): identical, character for character.
  // Otherwise a document served for one issuer could speak for another (a mix-up attack, RFC 9207 §1).
  if (doc.issuer !== issuer)
    throw new MetadataProblem(`issuer is "${untrusted(doc.issuer)}", not "${issuer}" for which the document was fetched (RFC 8414 §3.3)`);
  const issuerUrl = new URL(issuer);

  const endpoint = (name: string, value: string): string => {
    const check = checkUpstreamUrl(value, { allowLoopbackHttp: rules.allowLoopbackHttp });
    if (!check.ok) throw new MetadataProblem(`${name} ${check.problem}`);
    if (!rules.allowCrossOriginEndpoints && check.url.origin !== issuerUrl.origin) {
      throw new MetadataProblem(`${name} is on ${check.url.origin}, not on the issuer's origin ${issuerUrl.origin}`, {
        hint: `If this provider really serves ${name} from another host, allow cross-origin endpoints for this server (allowCrossOriginEndpoints); otherwise the metadata is not to be trusted.`,
      });
    }
    return check.url.href;
  };
  const authorizationEndpoint = endpoint('authorization_endpoint', doc.authorization_endpoint);
  const tokenEndpoint = endpoint('token_endpoint', doc.token_endpoint);
  const registrationEndpoint = doc.registration_endpoint === undefined ? undefined : endpoint('registration_endpoint', doc.registration_endpoint);
  const revocationEndpoint = doc.revocation_endpoint === undefined ? undefined : endpoint('revocation_endpoint', doc.revocation_endpoint);

  // MCP 2025-11-25 "Authorization Code Protection": without code_challenge_methods_supported the
  // server does not support PKCE, and a client MUST refuse to proceed; the gateway only uses S256.
  const pkce = doc.code_challenge_methods_supported;
  if (pkce === undefined) throw new MetadataProblem('code_challenge_methods_supported is missing, so the server does not offer PKCE (MCP requires S256)');
  if (!pkce.includes('S256')) throw new MetadataProblem('code_challenge_methods_supported does not include S256 (PKCE, RFC 7636), which MCP requires');
  if (doc.response_types_supported !== undefined && !doc.response_types_supported.includes('code')) {
    throw new MetadataProblem('response_types_supported does not include code: the server does not offer the authorization code flow');
  }
  if (doc.grant_types_supported !== undefined && !doc.grant_types_supported.includes('authorization_code')) {
    throw new MetadataProblem('grant_types_supported does not include authorization_code');
  }

  return {
    issuer: doc.issuer,
    authorizationEndpoint,
    tokenEndpoint,
    registrationEndpoint,
    revocationEndpoint,
    authorizationResponseIssParameterSupported: doc.authorization_response_iss_parameter_supported === true,
    clientIdMetadataDocumentSupported: doc.client_id_metadata_document_supported === true,
    scopesSupported: doc.scopes_supported,
    tokenEndpointAuthMethodsSupported: doc.token_endpoint_auth_methods_supported ?? ['client_secret_basic'],
  };
}
