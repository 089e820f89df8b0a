import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHarness } from './helpers/gateway-harness.js';
import { startGatewayHarness } from './helpers/gateway-harness.js';
import { CLIENT_REDIRECT, mcpInitialize } from './helpers/oauth-flow.js';
import { approveConsent } from './helpers/sdk-oauth-provider.js';
import { TestBrowser } from './helpers/test-browser.js';

/**
 * oauth4webapi (panva) as a strict third-party client: RFC 9728 and RFC 8414 discovery with the
 * exact issuer, RFC 7591 registration, PKCE S256, RFC 9207 `iss` validation, the code exchange
 * with an RFC 8707 `resource`, refresh, RFC 7009 revocation and RFC 7662 introspection, and
 * RFC 9068 validation of the access token against the published JWKS. Every check the library
 * makes stays on; the only allowance is plain http to 127.0.0.1.
 */
let h: GatewayHarness;
let echo: string;
let as: oauth.AuthorizationServer;
/** http://127.0.0.1 in the tests; a real deployment is https and needs none of this. */
const insecure = { [oauth.allowInsecureRequests]: true } as const;

beforeAll(async () => {
  h = await startGatewayHarness();
  echo = h.urls.resourceFor('echo');
  const issuer = new URL(h.urls.issuer);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
});
afterAll(async () => {
  await h?.close();
});

async function register(metadata: Partial<oauth.OmitSymbolProperties<oauth.Client>>): Promise<oauth.Client> {
  const res = await oauth.dynamicClientRegistrationRequest(
    as,
    { redirect_uris: [CLIENT_REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], ...metadata },
    insecure,
  );
  return oauth.processDynamicClientRegistrationResponse(res);
}

/** The browser part: authorization request with PKCE and state, GitHub stand-in login, consent. Returns the validated callback parameters. */
async function authorize(client: oauth.Client, resource: string): Promise<{ params: URLSearchParams; verifier: string; callback: URL }> {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(as.authorization_endpoint!);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    resource,
  }).toString();
  const browser = new TestBrowser(CLIENT_REDIRECT);
  const result = await approveConsent(browser, await browser.open(url.href));
  const callback = result.redirectedTo;
  if (!callback) throw new Error(`the browser did not come back: ${result.page?.body.slice(0, 300)}`);
  return { params: oauth.validateAuthResponse(as, client, callback, state), verifier, callback };
}

describe('oauth4webapi against the gateway, strict checks on', () => {
  it('discovers the protected resource (RFC 9728) and the authorization server (RFC 8414) with the exact issuer', async () => {
    const rs = await oauth.processResourceDiscoveryResponse(new URL(echo), await oauth.resourceDiscoveryRequest(new URL(echo), insecure));
    expect(rs.resource).toBe(echo);
    expect(rs.authorization_servers).toEqual([h.urls.issuer]);
    expect(as.issuer).toBe(h.urls.issuer);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    // The OpenID Connect form of discovery answers the same document.
    const oidc = await oauth.processDiscoveryResponse(new URL(h.urls.issuer), await oauth.discoveryRequest(new URL(h.urls.issuer), insecure));
    expect(oidc.token_endpoint).toBe(as.token_endpoint);
    // A client that expected another issuer refuses the document.
    await expect(
      oauth.processDiscoveryResponse(
        new URL('https://evil.example'),
        await oauth.discoveryRequest(new URL(h.urls.issuer), { algorithm: 'oauth2', ...insecure }),
      ),
    ).rejects.toThrow(/issuer/);
  });

  it('registers, authorizes with PKCE, validates iss (RFC 9207), exchanges the code for the resource, refreshes and revokes (public client)', async () => {
    const client = await register({ client_name: 'oauth4webapi public', token_endpoint_auth_method: 'none' });
    expect(client.token_endpoint_auth_method).toBe('none');
    const { params, verifier, callback } = await authorize(client, echo);
    expect(callback.searchParams.get('iss')).toBe(h.urls.issuer);

    const tokenRes = await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, CLIENT_REDIRECT, verifier, {
      additionalParameters: { resource: echo },
      ...insecure,
    });
    expect(tokenRes.headers.get('cache-control')).toBe('no-store');
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenRes);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toBeTypeOf('string');

    // RFC 9068, checked by the library against the gateway's JWKS: typ at+jwt, iss, aud = the resource, exp, client_id.
    const claims = await oauth.validateJwtAccessToken(as, new Request(echo, { headers: { authorization: `Bearer ${tokens.access_token}` } }), echo, insecure);
    expect(claims.client_id).toBe(client.client_id);
    expect(claims.aud).toBe(echo);
    await expect(
      oauth.validateJwtAccessToken(
        as,
        new Request(echo, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
        h.urls.resourceFor('other'),
        insecure,
      ),
    ).rejects.toThrow(/aud/);

    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(200);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, { additionalParameters: { resource: echo }, ...insecure }),
    );
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect((await mcpInitialize(echo, refreshed.access_token)).status).toBe(200);

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token!, {
        additionalParameters: { token_type_hint: 'refresh_token' },
        ...insecure,
      }),
    );
    expect((await mcpInitialize(echo, refreshed.access_token)).status).toBe(401);
    const afterRevoke = oauth
      .refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure)
      .then((res) => oauth.processRefreshTokenResponse(as, client, res));
    await expect(afterRevoke).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
  });

  it('refuses an authorization response whose iss is missing or another issuer, as RFC 9207 §2.4 requires', async () => {
    const client = await register({ client_name: 'oauth4webapi iss', token_endpoint_auth_method: 'none' });
    const { callback } = await authorize(client, echo);
    const state = callback.searchParams.get('state')!;
    const withoutIss = new URL(callback);
    withoutIss.searchParams.delete('iss');
    expect(() => oauth.validateAuthResponse(as, client, withoutIss, state)).toThrow(/iss/);
    const mixedUp = new URL(callback);
    mixedUp.searchParams.set('iss', 'https://evil.example');
    expect(() => oauth.validateAuthResponse(as, client, mixedUp, state)).toThrow(/iss/);
  });

  it('answers a replayed code with an RFC 6749 error the library parses (invalid_grant)', async () => {
    const client = await register({ client_name: 'oauth4webapi replay', token_endpoint_auth_method: 'none' });
    const { params, verifier } = await authorize(client, echo);
    const exchange = async () =>
      oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, CLIENT_REDIRECT, verifier, insecure),
      );
    const first = await exchange();
    await expect(exchange()).rejects.toMatchObject({ error: 'invalid_grant', status: 400 });
    expect((await mcpInitialize(echo, first.access_token)).status).toBe(401);
  });

  it('authenticates a confidential client with client_secret_basic, introspects and revokes its access token', async () => {
    const client = await register({ client_name: 'oauth4webapi confidential', token_endpoint_auth_method: 'client_secret_basic' });
    const secret = client['client_secret'];
    expect(secret).toBeTypeOf('string');
    const auth = oauth.ClientSecretBasic(String(secret));
    const { params, verifier } = await authorize(client, echo);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, auth, params, CLIENT_REDIRECT, verifier, { additionalParameters: { resource: echo }, ...insecure }),
    );
    expect((await mcpInitialize(echo, tokens.access_token)).status).toBe(200);

    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, auth, token, insecure));
    const active = await introspect(tokens.access_token);
    expect(active).toMatchObject({ active: true, client_id: client.client_id, aud: echo, iss: h.urls.issuer, username: 'alice', token_type: 'Bearer' });
    expect(active.exp).toBeGreaterThan(Math.floor(Date.now() / 1000));
    expect((await introspect(tokens.refresh_token!)).active).toBe(true);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, insecure),
    );
    expect((await introspect(tokens.refresh_token!)).active).toBe(false);

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, auth, refreshed.access_token, { additionalParameters: { token_type_hint: 'access_token' }, ...insecure }),
    );
    expect((await introspect(refreshed.access_token)).active).toBe(false);
    expect((await mcpInitialize(echo, refreshed.access_token)).status).toBe(401);

    // A wrong secret is refused at every endpoint that authenticates the client.
    const wrong = oauth.ClientSecretBasic('not-the-secret');
    await expect(
      oauth.introspectionRequest(as, client, wrong, refreshed.refresh_token!, insecure).then((res) => oauth.processIntrospectionResponse(as, client, res)),
    ).rejects.toMatchObject({ status: 401 });
    const refreshWithWrongSecret = await oauth.refreshTokenGrantRequest(as, client, wrong, refreshed.refresh_token!, insecure);
    expect(refreshWithWrongSecret.status).toBe(401);
  });
});
