import { z } from 'zod';
import { GatewayError } from '../../errors.js';
import { parseJson, requestUpstream, untrusted } from './upstream-http.js';

/**
 * OpenID Connect Discovery 1.0 for the generic OIDC upstream: fetch the provider's metadata,
 * check it names the configured issuer exactly (§4.3: otherwise a document at one URL could send
 * our users' logins to another provider), and settle once how we will talk to it.
 */

export interface OidcProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  userinfoEndpoint: string | undefined;
  /** Asymmetric algorithms we can verify with the JWKS; never `none`, never HMAC. */
  idTokenAlgorithms: string[];
  /** How we authenticate at the token endpoint (RFC 6749 §2.3.1, OIDC Core §9). */
  tokenEndpointAuth: 'client_secret_basic' | 'client_secret_post' | 'none';
  /** RFC 9207: the provider puts `iss` in its authorization responses, so a response without it is forged. */
  issInAuthorizationResponse: boolean;
}

/** What `jwtVerify` with a JWKS can check. HS* would need the client secret as key and would let anyone holding it mint tokens. */
const ASYMMETRIC_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

const discoveryBody = z.object({
  issuer: z.string().min(1).max(2048),
  authorization_endpoint: z.string().min(1).max(2048),
  token_endpoint: z.string().min(1).max(2048),
  jwks_uri: z.string().min(1).max(2048),
  userinfo_endpoint: z.string().min(1).max(2048).optional(),
  response_types_supported: z.array(z.string()),
  id_token_signing_alg_values_supported: z.array(z.string()),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
});

/** The issuer as configured: an http(s) URL without query, fragment or credentials (OIDC Core §2). */
export function parseIssuer(issuer: string): URL {
  if (!URL.canParse(issuer)) throw new TypeError(`OpenID issuer is not a URL: ${issuer}`);
  const url = new URL(issuer);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new TypeError(`OpenID issuer must be http(s): ${issuer}`);
  if (url.search || url.hash || url.username || url.password || issuer.includes('#') || issuer.includes('?')) {
    throw new TypeError('OpenID issuer must not carry a query, fragment or credentials');
  }
  return url;
}

/** Discovery §4: the issuer with any trailing `/` removed, then the well-known path. */
export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

export async function fetchOidcMetadata({
  issuer,
  clientAuth,
  fetch: fetchImpl,
  timeoutMs,
  userAgent,
}: {
  issuer: string;
  /** `auto`: client_secret_basic, or post when that is all the provider offers. */
  clientAuth: 'auto' | 'client_secret_basic' | 'client_secret_post' | 'none';
  fetch: typeof fetch;
  timeoutMs: number;
  userAgent: string;
}): Promise<OidcProviderMetadata> {
  const issuerUrl = parseIssuer(issuer);
  const url = discoveryUrl(issuer);
  const checkIssuer = `check the OpenID issuer (now ${issuer}): its ${url} must be this provider's discovery document`;
  const bad = (what: string, hint = checkIssuer): GatewayError =>
    new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `OpenID provider discovery at ${url}: ${what}`, { hint });

  const { status, headers, text } = await requestUpstream(
    fetchImpl,
    url,
    { headers: { accept: 'application/json', 'user-agent': userAgent } },
    {
      system: 'the OpenID provider',
      timeoutMs,
      hint: `check the OpenID issuer (now ${issuer}) and that this host can reach ${issuerUrl.origin} (DNS, proxy, firewall)`,
      badResponseHint: checkIssuer,
    },
  );
  if (status >= 500 || status === 429) {
    throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `the OpenID provider failed at ${url} (HTTP ${status})`, {
      hint: 'the provider is down or overloaded: retry later',
    });
  }
  if (status >= 300 && status < 400) throw bad(`redirected (HTTP ${status}) to ${untrusted(headers.get('location') ?? '?')}`);
  if (status !== 200) throw bad(`HTTP ${status}`);
  const parsed = discoveryBody.safeParse(parseJson(text));
  if (!parsed.success) throw bad('not an OpenID Provider Configuration document');
  const doc = parsed.data;

  if (doc.issuer !== issuer) {
    throw new GatewayError(
      'ERR_UPSTREAM_BAD_RESPONSE',
      `the OpenID provider at ${url} names its issuer "${untrusted(doc.issuer)}", not the configured "${issuer}"`,
      {
        hint:
          `if that is the provider you mean, set the issuer to exactly "${untrusted(doc.issuer)}"` +
          ' (OpenID Connect Discovery §4.3: the match is exact, trailing slash included)',
      },
    );
  }
  // RFC 6749 §3.1/§3.2: endpoints may carry a query (Azure AD B2C's `?p=policy`), never a fragment.
  const endpoint = (name: string, value: string): string => {
    const parsedUrl = URL.canParse(value) ? new URL(value) : undefined;
    // An https issuer with an http endpoint would send codes and tokens in clear text.
    const schemeOk = parsedUrl?.protocol === 'https:' || (parsedUrl?.protocol === 'http:' && issuerUrl.protocol === 'http:');
    if (!parsedUrl || !schemeOk || parsedUrl.hash || parsedUrl.username || parsedUrl.password) {
      throw bad(`${name} is not a usable ${issuerUrl.protocol.slice(0, -1)} URL: ${untrusted(value)}`);
    }
    return parsedUrl.toString();
  };

  if (!doc.response_types_supported.includes('code')) throw bad('the provider does not offer the authorization code flow');
  if (doc.code_challenge_methods_supported && !doc.code_challenge_methods_supported.includes('S256')) {
    throw bad('the provider does not support PKCE with S256', 'the gateway always uses PKCE S256 (RFC 7636); enable it at the provider');
  }
  const idTokenAlgorithms = doc.id_token_signing_alg_values_supported.filter((alg) => ASYMMETRIC_ALGORITHMS.has(alg));
  if (idTokenAlgorithms.length === 0) {
    throw bad('no asymmetric id_token signing algorithm offered', 'configure the client at the provider to sign id_tokens with RS256 or ES256');
  }

  // Discovery §3: an absent list means client_secret_basic only.
  const methods = doc.token_endpoint_auth_methods_supported ?? ['client_secret_basic'];
  let tokenEndpointAuth: OidcProviderMetadata['tokenEndpointAuth'] = clientAuth === 'auto' ? 'client_secret_basic' : clientAuth;
  if (clientAuth === 'auto' && !methods.includes('client_secret_basic')) {
    if (!methods.includes('client_secret_post')) {
      throw bad(
        `the token endpoint accepts neither client_secret_basic nor client_secret_post (only ${untrusted(methods.join(', '))})`,
        'configure the client at the provider for client secret authentication, or as a public client without a secret',
      );
    }
    tokenEndpointAuth = 'client_secret_post';
  }
  // `none` is not checked against the list: providers often leave it out even where public clients are accepted.
  if (tokenEndpointAuth !== 'none' && !methods.includes(tokenEndpointAuth)) {
    throw bad(
      `the token endpoint does not accept ${tokenEndpointAuth} (only ${untrusted(methods.join(', '))})`,
      'choose a client authentication method the provider offers',
    );
  }

  return {
    issuer: doc.issuer,
    authorizationEndpoint: endpoint('authorization_endpoint', doc.authorization_endpoint),
    tokenEndpoint: endpoint('token_endpoint', doc.token_endpoint),
    jwksUri: endpoint('jwks_uri', doc.jwks_uri),
    userinfoEndpoint: doc.userinfo_endpoint === undefined ? undefined : endpoint('userinfo_endpoint', doc.userinfo_endpoint),
    idTokenAlgorithms,
    tokenEndpointAuth,
    issInAuthorizationResponse: doc.authorization_response_iss_parameter_supported === true,
  };
}
