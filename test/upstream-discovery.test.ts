import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostLookup } from '../runtime/auth/clients/cimd/cimd-resolver.js';
import { createGuardedHttp, type GuardedHttpOptions } from '../runtime/auth/upstream-oauth/guarded-http.js';
import { discoverUpstreamAuthorization, type UpstreamAuthorization } from '../runtime/auth/upstream-oauth/upstream-discovery.js';
import { bearerChallenge } from '../runtime/auth/upstream-oauth/www-authenticate.js';
import { GatewayError } from '../runtime/errors.js';
import {
  authorizationServerMetadata,
  challenge,
  hang,
  json,
  type MetadataStandIn,
  reply,
  resourceMetadata,
  startMetadataStandIn,
} from './upstream-oauth/metadata-stand-in.js';

/**
 * Discovery of a remote MCP server's authorization server (MCP 2025-11-25 "Authorization Server
 * Discovery") against real HTTP on 127.0.0.1. Reaching loopback needs `allowPrivateNetworks`, as
 * in the CIMD tests; the SSRF guard itself is exercised with it off and a `lookup` that makes a
 * public-looking name resolve to internal addresses.
 */

let rs: MetadataStandIn;
let as: MetadataStandIn;
beforeEach(async () => {
  rs = await startMetadataStandIn();
  as = await startMetadataStandIn();
});
afterEach(async () => {
  await rs.close();
  await as.close();
});

const local = (options: GuardedHttpOptions = {}) => createGuardedHttp({ allowPrivateNetworks: true, timeoutMs: 2_000, ...options });
const endpoint = (): URL => new URL(`${rs.base}/mcp`);

function discover(options: { http?: GuardedHttpOptions; allowCrossOriginEndpoints?: boolean } = {}, at: URL = endpoint()): Promise<UpstreamAuthorization> {
  return discoverUpstreamAuthorization(at, {
    http: local(options.http),
    ...(options.allowCrossOriginEndpoints === undefined ? {} : { allowCrossOriginEndpoints: options.allowCrossOriginEndpoints }),
  });
}

/** The usual remote server: a plain 401, metadata at the path-inserted well-known URL, an issuer without a path. */
function serveStandard({ prm = {}, asm = {} }: { prm?: Record<string, unknown>; asm?: Record<string, unknown> } = {}): void {
  rs.on('POST /mcp', challenge('Bearer realm="mcp"'));
  rs.on('/.well-known/oauth-protected-resource/mcp', json(resourceMetadata(`${rs.base}/mcp`, [as.base], prm)));
  as.on('/.well-known/oauth-authorization-server', json(authorizationServerMetadata(as.base, asm)));
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw new Error(`expected a GatewayError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected discovery to fail');
}

async function refusedWith(promise: Promise<unknown>, code: GatewayError['code'], ...words: string[]): Promise<GatewayError> {
  const err = await failure(promise);
  expect(err.code).toBe(code);
  expect(err.hint).toBeTruthy();
  for (const word of words) expect(err.message).toContain(word);
  return err;
}

describe('protected resource metadata discovery order', () => {
  it('uses the resource_metadata of the endpoint’s 401 and asks no well-known URL', async () => {
    rs.on('POST /mcp', challenge(`Bearer error="invalid_token", resource_metadata="${rs.base}/meta/prm", scope="files:read files:write"`));
    rs.on('/meta/prm', json(resourceMetadata(`${rs.base}/mcp`, [as.base], { scopes_supported: ['files:read'] })));
    as.on('/.well-known/oauth-authorization-server', json(authorizationServerMetadata(as.base)));

    const found = await discover();
    expect(found.resourceMetadataSource).toBe('www-authenticate');
    expect(found.resourceMetadataUrl).toBe(`${rs.base}/meta/prm`);
    expect(found.challengedScopes).toEqual(['files:read', 'files:write']);
    expect(found.resourceScopesSupported).toEqual(['files:read']);
    expect(rs.seen()).toEqual(['POST /mcp', 'GET /meta/prm']);
    const probe = rs.requests[0]!;
    expect(JSON.parse(probe.body)).toMatchObject({ jsonrpc: '2.0', method: 'initialize' });
    expect(probe.headers['authorization']).toBeUndefined();
  });

  it('falls back to the path-inserted well-known URL when the 401 names no metadata', async () => {
    serveStandard();
    const found = await discover();
    expect(found.resourceMetadataSource).toBe('well-known-path');
    expect(found.resource).toBe(`${rs.base}/mcp`);
    expect(found.challengedScopes).toBeUndefined();
    expect(rs.seen()).toEqual(['POST /mcp', 'GET /.well-known/oauth-protected-resource/mcp']);
  });

  it('falls back to the root well-known URL, whose resource may be the origin', async () => {
    rs.on('POST /mcp', challenge('Bearer'));
    rs.on('/.well-known/oauth-protected-resource', json(resourceMetadata(rs.base, [as.base])));
    as.on('/.well-known/oauth-authorization-server', json(authorizationServerMetadata(as.base)));
    const found = await discover();
    expect(found.resourceMetadataSource).toBe('well-known-root');
    expect(found.resource).toBe(rs.base);
    expect(rs.seen()).toEqual(['POST /mcp', 'GET /.well-known/oauth-protected-resource/mcp', 'GET /.well-known/oauth-protected-resource']);
  });

  it('still finds the metadata when the endpoint never finishes answering the unauthenticated POST', async () => {
    rs.on('POST /mcp', hang);
    rs.on('/.well-known/oauth-protected-resource/mcp', json(resourceMetadata(`${rs.base}/mcp`, [as.base])));
    as.on('/.well-known/oauth-authorization-server', json(authorizationServerMetadata(as.base)));
    const found = await discover({ http: { timeoutMs: 300 } });
    expect(found.resourceMetadataSource).toBe('well-known-path');
  });

  it('keeps the endpoint’s query after the inserted path (RFC 9728 §3.1)', async () => {
    rs.on('POST /mcp?tenant=a', challenge('Bearer'));
    rs.on('/.well-known/oauth-protected-resource/mcp?tenant=a', json(resourceMetadata(`${rs.base}/mcp`, [as.base])));
    as.on('/.well-known/oauth-authorization-server', json(authorizationServerMetadata(as.base)));
    const found = await discover({}, new URL(`${rs.base}/mcp?tenant=a`));
    expect(found.resourceMetadataSource).toBe('well-known-path');
  });
});

describe('authorization server metadata discovery order', () => {
  const withPath = (): string => `${as.base}/tenant1`;
  function serveResourceFor(issuer: string): void {
    rs.on('POST /mcp', challenge('Bearer'));
    rs.on('/.well-known/oauth-protected-resource/mcp', json(resourceMetadata(`${rs.base}/mcp`, [issuer])));
  }

  it('an issuer with a path: RFC 8414 path insertion first', async () => {
    serveResourceFor(withPath());
    as.on('/.well-known/oauth-authorization-server/tenant1', json(authorizationServerMetadata(withPath())));
    as.on('/.well-known/openid-configuration/tenant1', json(authorizationServerMetadata(withPath(), { issuer: 'https://wrong.example' })));
    const found = await discover();
    expect(found.authorizationServerMetadataUrl).toBe(`${as.base}/.well-known/oauth-authorization-server/tenant1`);
    expect(found.issuer).toBe(withPath());
    expect(found.authorizationEndpoint).toBe(`${withPath()}/authorize`);
    expect(as.seen()).toEqual(['GET /.well-known/oauth-authorization-server/tenant1']);
  });

  it('an issuer with a path: then OpenID Connect path insertion', async () => {
    serveResourceFor(withPath());
    as.on('/.well-known/openid-configuration/tenant1', json(authorizationServerMetadata(withPath())));
    const found = await discover();
    expect(found.authorizationServerMetadataUrl).toBe(`${as.base}/.well-known/openid-configuration/tenant1`);
    expect(as.seen()).toEqual(['GET /.well-known/oauth-authorization-server/tenant1', 'GET /.well-known/openid-configuration/tenant1']);
  });

  it('an issuer with a path: then OpenID Connect path appending', async () => {
    serveResourceFor(withPath());
    as.on('/tenant1/.well-known/openid-configuration', json(authorizationServerMetadata(withPath())));
    const found = await discover();
    expect(found.authorizationServerMetadataUrl).toBe(`${withPath()}/.well-known/openid-configuration`);
    expect(as.seen()).toEqual([
      'GET /.well-known/oauth-authorization-server/tenant1',
      'GET /.well-known/openid-configuration/tenant1',
      'GET /tenant1/.well-known/openid-configuration',
    ]);
  });

  it('an issuer without a path: RFC 8414 first, then OpenID Connect', async () => {
    serveResourceFor(as.base);
    as.on('/.well-known/openid-configuration', json(authorizationServerMetadata(as.base)));
    const found = await discover();
    expect(found.authorizationServerMetadataUrl).toBe(`${as.base}/.well-known/openid-configuration`);
    expect(as.seen()).toEqual(['GET /.well-known/oauth-authorization-server', 'GET /.well-known/openid-configuration']);
  });

  it('an issuer with a trailing slash counts as one without a path, and must match with its slash', async () => {
    serveResourceFor(`${as.base}/`);
    as.on('/.well-known/oauth-authorization-server', json(authorizationServerMetadata(`${as.base}/`)));
    const found = await discover();
    expect(found.issuer).toBe(`${as.base}/`);
  });

  it('reports every URL tried when none has metadata', async () => {
    serveResourceFor(withPath());
    const err = await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'no authorization server metadata', '/tenant1/.well-known/openid-configuration');
    expect(err.message).toContain('HTTP 404');
  });
});

describe('what discovery records', () => {
  it('records endpoints, RFC 9207 and CIMD support, scopes and client authentication methods', async () => {
    serveStandard({
      asm: {
        registration_endpoint: `${as.base}/register`,
        revocation_endpoint: `${as.base}/revoke`,
        authorization_response_iss_parameter_supported: true,
        client_id_metadata_document_supported: true,
        scopes_supported: ['openid', 'files:read'],
        token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'],
      },
    });
    const found = await discover();
    expect(found).toEqual({
      endpoint: `${rs.base}/mcp`,
      resource: `${rs.base}/mcp`,
      resourceMetadataUrl: `${rs.base}/.well-known/oauth-protected-resource/mcp`,
      resourceMetadataSource: 'well-known-path',
      authorizationServers: [as.base],
      issuer: as.base,
      authorizationServerMetadataUrl: `${as.base}/.well-known/oauth-authorization-server`,
      authorizationEndpoint: `${as.base}/authorize`,
      tokenEndpoint: `${as.base}/token`,
      registrationEndpoint: `${as.base}/register`,
      revocationEndpoint: `${as.base}/revoke`,
      authorizationResponseIssParameterSupported: true,
      clientIdMetadataDocumentSupported: true,
      scopesSupported: ['openid', 'files:read'],
      tokenEndpointAuthMethodsSupported: ['none', 'client_secret_basic'],
      challengedScopes: undefined,
      resourceScopesSupported: undefined,
    });
    expect(JSON.parse(JSON.stringify(found))).toEqual(JSON.parse(JSON.stringify(found)));
  });

  it('defaults: no RFC 9207, no CIMD, client_secret_basic only (RFC 8414 §2)', async () => {
    serveStandard();
    const found = await discover();
    expect(found.authorizationResponseIssParameterSupported).toBe(false);
    expect(found.clientIdMetadataDocumentSupported).toBe(false);
    expect(found.registrationEndpoint).toBeUndefined();
    expect(found.tokenEndpointAuthMethodsSupported).toEqual(['client_secret_basic']);
  });

  it('uses the first of several authorization servers and records them all', async () => {
    serveStandard({ prm: { authorization_servers: [as.base, 'https://other-as.example'] } });
    const found = await discover();
    expect(found.issuer).toBe(as.base);
    expect(found.authorizationServers).toEqual([as.base, 'https://other-as.example']);
  });
});

describe('hostile authorization server metadata', () => {
  it('refuses metadata whose issuer is not the one it was fetched for (RFC 8414 §3.3)', async () => {
    serveStandard({ asm: { issuer: 'https://evil.example' } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'issuer', 'https://evil.example', '/.well-known/oauth-authorization-server');
  });

  it('refuses an authorization_endpoint on another origin, unless cross-origin endpoints are allowed', async () => {
    serveStandard({ asm: { authorization_endpoint: `${rs.base}/authorize` } });
    const err = await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'authorization_endpoint', rs.base);
    expect(err.hint).toContain('allowCrossOriginEndpoints');
    const found = await discover({ allowCrossOriginEndpoints: true });
    expect(found.authorizationEndpoint).toBe(`${rs.base}/authorize`);
  });

  it('refuses a token_endpoint or registration_endpoint on another origin', async () => {
    serveStandard({ asm: { token_endpoint: `${rs.base}/token` } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'token_endpoint');
    serveStandard({ asm: { registration_endpoint: `${rs.base}/register` } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'registration_endpoint');
  });

  it.each([
    ['authorization_endpoint', 'javascript:alert(document.cookie)', 'javascript:'],
    ['authorization_endpoint', 'java\nscript:alert(1)', 'control characters'],
    ['token_endpoint', 'data:text/html,<script>alert(1)</script>', 'data:'],
    ['token_endpoint', 'file:///etc/passwd', 'file:'],
    ['revocation_endpoint', '//evil.example/revoke', 'not an absolute URL'],
    ['registration_endpoint', 'https://evil.example\\@127.0.0.1/register', 'backslash'],
  ])('refuses %s = %j', async (field, value, word) => {
    serveStandard({ asm: { [field]: value } });
    await refusedWith(discover({ allowCrossOriginEndpoints: true }), 'ERR_UPSTREAM_OAUTH_DISCOVERY', field, word);
  });

  it('refuses http endpoints on a host that is not loopback, even when loopback http is allowed', async () => {
    serveStandard({ asm: { authorization_endpoint: 'http://auth.example/authorize' } });
    await refusedWith(discover({ allowCrossOriginEndpoints: true }), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'authorization_endpoint', 'plain http');
  });

  it('refuses an http endpoint URL when loopback is not allowed', async () => {
    await refusedWith(
      discoverUpstreamAuthorization(endpoint(), { http: createGuardedHttp({ timeoutMs: 2_000 }) }),
      'ERR_UPSTREAM_OAUTH_DISCOVERY',
      'plain http',
    );
    expect(rs.requests).toHaveLength(0);
  });

  it.each([
    ['user name and password', (base: string) => base.replace('http://', 'http://user:pw@')],
    ['an @ that makes another host look trusted', (base: string) => base.replace('http://', 'http://as.example@')],
  ])('refuses endpoints with %s', async (_name, forge) => {
    serveStandard({ asm: { authorization_endpoint: `${forge(as.base)}/authorize` } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'authorization_endpoint', 'user name or password');
  });

  it('refuses an endpoint with a fragment', async () => {
    serveStandard({ asm: { token_endpoint: `${as.base}/token#x` } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'token_endpoint', 'fragment');
  });

  it('refuses a server without PKCE S256, or that does not say (MCP: a client must refuse to proceed)', async () => {
    serveStandard({ asm: { code_challenge_methods_supported: ['plain'] } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'S256');
    serveStandard({ asm: { code_challenge_methods_supported: undefined } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'code_challenge_methods_supported is missing');
  });

  it('refuses a server without the authorization code flow', async () => {
    serveStandard({ asm: { response_types_supported: ['token'] } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'response_types_supported');
  });

  it('refuses fields of the wrong type, naming the field', async () => {
    serveStandard({ asm: { client_id_metadata_document_supported: 'yes' } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'client_id_metadata_document_supported');
    serveStandard({ asm: { scopes_supported: ['ok', 'has space'] } });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'scopes_supported.1');
  });

  it('refuses a metadata document that is an array', async () => {
    serveStandard();
    as.on('/.well-known/oauth-authorization-server', json([authorizationServerMetadata(as.base)]));
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'not a JSON object');
  });

  it('refuses JSON nested 10,000 deep without overflowing the stack', async () => {
    serveStandard();
    const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    as.on(
      '/.well-known/oauth-authorization-server',
      json(`{"issuer":${JSON.stringify(as.base)},"scopes_supported":${'['.repeat(10_000)}${']'.repeat(10_000)},"x":${deep}}`),
    );
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', '/.well-known/oauth-authorization-server');
    as.on('/.well-known/oauth-authorization-server', json(`${'['.repeat(10_000)}${']'.repeat(10_000)}`));
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'not a JSON object');
  });

  it('refuses a 10 MB document, declared or streamed, without reading it all', async () => {
    serveStandard();
    const huge = Buffer.alloc(10 * 1024 * 1024, 0x20);
    as.on('/.well-known/oauth-authorization-server', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(huge));
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'larger than 65536 bytes');
    as.on('/.well-known/oauth-authorization-server', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      for (let i = 0; i < 160; i++) res.write(huge.subarray(0, 64 * 1024));
      res.end();
    });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'larger than 65536 bytes');
  });

  it('refuses a document declared as JSON that is not JSON', async () => {
    serveStandard();
    as.on('/.well-known/oauth-authorization-server', json('<html>sign in</html>'));
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'not valid JSON');
  });

  it('moves past an HTML page and fails when no URL serves JSON', async () => {
    serveStandard();
    as.on('/.well-known/oauth-authorization-server', reply(200, { 'content-type': 'text/html' }, '<html></html>'));
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'text/html, not JSON', 'no authorization server metadata');
  });

  it('gives up on a server that does not answer in time', async () => {
    serveStandard();
    as.on('/.well-known/oauth-authorization-server', hang);
    const started = Date.now();
    await refusedWith(discover({ http: { timeoutMs: 300 } }), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'within 300 ms');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('hostile protected resource metadata', () => {
  function servePrm(doc: unknown): void {
    rs.on('POST /mcp', challenge('Bearer'));
    rs.on('/.well-known/oauth-protected-resource/mcp', json(doc));
    as.on('/.well-known/oauth-authorization-server', json(authorizationServerMetadata(as.base)));
  }

  it.each([
    ['empty', []],
    ['not URLs', ['not a url']],
    ['javascript: URLs', ['javascript:alert(1)']],
    ['numbers', [42]],
    ['issuers with a query', ['https://as.example/?tenant=1']],
    ['issuers with a fragment', ['https://as.example/#x']],
    ['plain http', ['http://as.example']],
  ])('refuses authorization_servers that are %s', async (_name, servers) => {
    servePrm(resourceMetadata(`${rs.base}/mcp`, servers));
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'authorization_servers');
    expect(as.requests).toHaveLength(0);
  });

  it('refuses a document without authorization_servers', async () => {
    servePrm({ resource: `${rs.base}/mcp` });
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'authorization_servers');
  });

  it.each([
    ['another origin', () => 'https://evil.example/mcp'],
    ['a sibling path', () => `${rs.base}/mcp-admin`],
    ['a longer path', () => `${rs.base}/mcp/other`],
    ['a path of another tenant', () => `${rs.base}/other`],
    ['a query', () => `${rs.base}/mcp?x=1`],
  ])('refuses a resource that names %s (RFC 9728 §3.3)', async (_name, resource) => {
    servePrm(resourceMetadata(resource(), [as.base]));
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'resource');
    expect(as.requests).toHaveLength(0);
  });

  it('accepts the endpoint in another case or with a trailing slash', async () => {
    servePrm(resourceMetadata(`${rs.base.toUpperCase().replace('HTTP://', 'http://')}/mcp/`, [as.base]));
    expect((await discover()).issuer).toBe(as.base);
  });

  it('refuses a document that is an array, or not JSON', async () => {
    servePrm([resourceMetadata(`${rs.base}/mcp`, [as.base])]);
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'not a JSON object');
    servePrm('{"resource":');
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'not valid JSON');
  });

  it('uses only the resource_metadata of the 401: a missing document there is an error, not a reason to guess', async () => {
    rs.on('POST /mcp', challenge(`Bearer resource_metadata="${rs.base}/gone"`));
    rs.on('/.well-known/oauth-protected-resource/mcp', json(resourceMetadata(`${rs.base}/mcp`, [as.base])));
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', '/gone', 'HTTP 404');
    expect(rs.seen()).toEqual(['POST /mcp', 'GET /gone']);
  });

  it.each([
    ['javascript:', 'javascript:alert(1)'],
    ['plain http elsewhere', 'http://metadata.example/prm'],
    ['userinfo', 'https://user@metadata.example/prm'],
  ])('refuses a resource_metadata URL with %s', async (_name, url) => {
    rs.on('POST /mcp', challenge(`Bearer resource_metadata="${url}"`));
    await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'resource_metadata');
  });

  it('fails with every URL it tried when the server publishes nothing', async () => {
    rs.on('POST /mcp', reply(200, { 'content-type': 'application/json' }, '{}'));
    const err = await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'no protected resource metadata', 'POST');
    expect(err.message).toContain('/.well-known/oauth-protected-resource/mcp answered HTTP 404');
    expect(err.message).toContain('/.well-known/oauth-protected-resource answered HTTP 404');
  });
});

describe('redirects and private addresses', () => {
  it.each([
    ['the cloud metadata service', 'http://169.254.169.254/latest/meta-data/'],
    ['a private address', 'http://10.0.0.1/.well-known/oauth-protected-resource'],
    ['IPv6 loopback', 'http://[::1]:9/.well-known/oauth-protected-resource'],
  ])('does not follow a redirect to %s', async (_name, target) => {
    rs.on('POST /mcp', challenge('Bearer'));
    rs.on('/.well-known/oauth-protected-resource/mcp', reply(302, { location: target }));
    rs.on('/.well-known/oauth-protected-resource', reply(307, { location: target }));
    const err = await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'not followed');
    expect(err.message).toContain(target);
  });

  it('never connects to the redirect target, even one on loopback', async () => {
    let v6: MetadataStandIn | undefined;
    try {
      v6 = await startMetadataStandIn('::1');
    } catch {
      return; // no IPv6 loopback here; the case above still covers the refusal
    }
    try {
      rs.on('POST /mcp', challenge('Bearer'));
      rs.on('/.well-known/oauth-protected-resource/mcp', reply(302, { location: `${v6.base}/.well-known/oauth-protected-resource/mcp` }));
      v6.on('/.well-known/oauth-protected-resource/mcp', json(resourceMetadata(`${rs.base}/mcp`, [as.base])));
      await refusedWith(discover(), 'ERR_UPSTREAM_OAUTH_DISCOVERY', 'not followed');
      expect(v6.requests).toHaveLength(0);
    } finally {
      await v6.close();
    }
  });

  const resolvingTo =
    (...addresses: string[]): HostLookup =>
    async () =>
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it.each([
    ['169.254.169.254', ['169.254.169.254']],
    ['10.0.0.1', ['10.0.0.1']],
    ['::1', ['::1']],
    ['a public and a private address (a rebinding setup)', ['93.184.215.14', '127.0.0.1']],
  ])('refuses a host that resolves to %s when private networks are not allowed', async (_name, addresses) => {
    const http = createGuardedHttp({ timeoutMs: 2_000, lookup: resolvingTo(...addresses) });
    const err = await refusedWith(
      discoverUpstreamAuthorization(new URL('https://remote.example/mcp'), { http }),
      'ERR_UPSTREAM_OAUTH_FORBIDDEN_TARGET',
      'remote.example',
    );
    expect(err.message).toContain(addresses.at(-1));
  });

  it('refuses a literal private address when private networks are not allowed', async () => {
    const http = createGuardedHttp({ timeoutMs: 2_000 });
    await refusedWith(discoverUpstreamAuthorization(new URL('https://169.254.169.254/mcp'), { http }), 'ERR_UPSTREAM_OAUTH_FORBIDDEN_TARGET', 'link-local');
  });
});

describe('WWW-Authenticate parsing', () => {
  it('finds the Bearer challenge among others, with quoted commas, escapes and unquoted URLs', () => {
    expect(bearerChallenge('Basic realm="a, b", Bearer scope="x y", resource_metadata="https://r.example/m\\"q"')).toEqual({
      scope: 'x y',
      resourceMetadata: 'https://r.example/m"q',
    });
    expect(bearerChallenge(['Negotiate abc==', 'bearer Resource_Metadata=https://r.example/m'])).toEqual({
      scope: undefined,
      resourceMetadata: 'https://r.example/m',
    });
  });

  it('yields nothing for no Bearer challenge, and never throws on garbage', () => {
    expect(bearerChallenge(undefined)).toBeUndefined();
    expect(bearerChallenge('Basic realm="x"')).toBeUndefined();
    expect(bearerChallenge('Bearer resource_metadata="unterminated')).toEqual({ scope: undefined, resourceMetadata: undefined });
    expect(() => bearerChallenge('=,,"\\'.repeat(10_000))).not.toThrow();
  });
});
