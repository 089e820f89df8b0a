import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSealedBox, type SealedBox } from '../runtime/auth/sealed-box.js';
import { createGuardedHttp, type GuardedHttp } from '../runtime/auth/upstream-oauth/guarded-http.js';
import {
  obtainUpstreamClient,
  type UpstreamClientRequest,
  upstreamClientIdMetadataDocument,
  upstreamClientIdUrl,
  upstreamClientStoreKey,
} from '../runtime/auth/upstream-oauth/upstream-client.js';
import { GatewayError } from '../runtime/errors.js';
import { createEmbeddedStore } from '../runtime/store/embedded-store.js';
import type { Store } from '../runtime/store/store.js';
import { json, type MetadataStandIn, reply, startMetadataStandIn } from './upstream-oauth/metadata-stand-in.js';

/**
 * Getting the gateway a client at a remote server's authorization server (MCP 2025-11-25
 * "Client Registration Approaches"), with dynamic registration against real HTTP on 127.0.0.1
 * and the embedded store, as the store contract suite creates it.
 */

let as: MetadataStandIn;
let store: Store;
let sealedBox: SealedBox;
let http: GuardedHttp;
beforeEach(async () => {
  as = await startMetadataStandIn();
  store = await createEmbeddedStore();
  sealedBox = createSealedBox(randomBytes(32));
  http = createGuardedHttp({ allowPrivateNetworks: true, timeoutMs: 2_000 });
});
afterEach(async () => {
  await store.close();
  await as.close();
});

const publicUrl = new URL('https://gateway.example');
const redirectUri = new URL('https://gateway.example/oauth/upstream/callback');

function request(overrides: Partial<UpstreamClientRequest> = {}, authorization: Partial<UpstreamClientRequest['authorization']> = {}): UpstreamClientRequest {
  return {
    authorization: { issuer: as.base, clientIdMetadataDocumentSupported: false, registrationEndpoint: `${as.base}/register`, ...authorization },
    publicUrl,
    server: 'notes',
    redirectUri,
    ...overrides,
  };
}

const obtain = (req: UpstreamClientRequest, deps: { sealedBox?: SealedBox; now?: () => number } = {}) =>
  obtainUpstreamClient(req, { store, sealedBox: deps.sealedBox ?? sealedBox, http, ...(deps.now === undefined ? {} : { now: deps.now }) });

/** A registration endpoint that hands out client-1, client-2, … and echoes the metadata, as RFC 7591 §3.2.1 describes. */
function serveRegistration(extra: Record<string, unknown> = {}): void {
  let n = 0;
  as.on('POST /register', (_req, res, body) => {
    n += 1;
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ ...JSON.parse(body), client_id: `client-${n}`, ...extra }));
  });
}

async function failure(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof GatewayError) return err;
    throw new Error(`expected a GatewayError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected it to fail');
}

describe('pre-registered credentials', () => {
  it('uses a pre-registered confidential client with client_secret_basic, registering nothing', async () => {
    serveRegistration();
    const client = await obtain(request({ preRegistered: { clientId: 'given', clientSecret: 's3cret-value' } }, { clientIdMetadataDocumentSupported: true }));
    expect(client).toEqual({ source: 'pre-registered', clientId: 'given', clientSecret: 's3cret-value', tokenEndpointAuthMethod: 'client_secret_basic' });
    expect(as.requests).toHaveLength(0);
    expect(await store.keys('')).toEqual([]);
  });

  it('uses a pre-registered public client with auth method none', async () => {
    const client = await obtain(request({ preRegistered: { clientId: 'given' } }));
    expect(client).toEqual({ source: 'pre-registered', clientId: 'given', clientSecret: undefined, tokenEndpointAuthMethod: 'none' });
  });
});

describe('Client ID Metadata Documents', () => {
  it('uses the gateway’s document URL as client_id when the server supports CIMD', async () => {
    serveRegistration();
    const client = await obtain(request({}, { clientIdMetadataDocumentSupported: true }));
    expect(client).toEqual({
      source: 'client-id-metadata-document',
      clientId: 'https://gateway.example/.well-known/oauth-client/notes.json',
      clientSecret: undefined,
      tokenEndpointAuthMethod: 'none',
    });
    expect(as.requests).toHaveLength(0);
  });

  it('builds the document the gateway serves at that URL', () => {
    expect(upstreamClientIdMetadataDocument({ publicUrl: new URL('https://gateway.example/'), server: 'notes', redirectUri })).toEqual({
      client_id: 'https://gateway.example/.well-known/oauth-client/notes.json',
      client_name: 'mcp-gateway (notes)',
      redirect_uris: ['https://gateway.example/oauth/upstream/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    expect(upstreamClientIdUrl(new URL('https://gateway.example:8443/base/'), 'notes')).toBe(
      'https://gateway.example:8443/.well-known/oauth-client/notes.json',
    );
  });

  it('refuses a server name that is not one (our caller’s mistake, a TypeError)', () => {
    expect(() => upstreamClientIdUrl(publicUrl, '../admin')).toThrow(TypeError);
  });

  it('registers dynamically instead when the gateway is not on a public https URL the server could fetch', async () => {
    serveRegistration();
    const client = await obtain(request({ publicUrl: new URL('http://127.0.0.1:8080') }, { clientIdMetadataDocumentSupported: true }));
    expect(client.source).toBe('dynamic-registration');
  });
});

describe('dynamic client registration (RFC 7591)', () => {
  it('registers a public client with the gateway’s callback and remembers it', async () => {
    serveRegistration();
    const client = await obtain(request());
    expect(client).toEqual({ source: 'dynamic-registration', clientId: 'client-1', clientSecret: undefined, tokenEndpointAuthMethod: 'none' });
    const sent = as.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(JSON.parse(sent.body)).toEqual({
      client_name: 'mcp-gateway (notes)',
      redirect_uris: [redirectUri.href],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
    expect(await store.keys('upstream-client:')).toEqual([upstreamClientStoreKey('notes', as.base)]);

    const again = await obtain(request());
    expect(again.clientId).toBe('client-1');
    expect(as.requests).toHaveLength(1);
  });

  it('keeps a secret the server issued sealed: the store holds no plaintext, and the next start opens it', async () => {
    serveRegistration({
      client_secret: 'upstream-secret-value-0123456789',
      client_secret_expires_at: 0,
      registration_access_token: 'registration-token-0123456789',
      token_endpoint_auth_method: 'client_secret_basic',
    });
    const client = await obtain(request());
    expect(client).toMatchObject({ clientSecret: 'upstream-secret-value-0123456789', tokenEndpointAuthMethod: 'client_secret_basic' });
    const raw = JSON.stringify(await store.get(upstreamClientStoreKey('notes', as.base)));
    expect(raw).not.toContain('upstream-secret-value');
    expect(raw).not.toContain('registration-token');
    expect(raw).toContain('client-1');

    const again = await obtain(request());
    expect(again).toEqual(client);
    expect(as.requests).toHaveLength(1);
  });

  it('defaults to client_secret_basic when a secret comes without an auth method', async () => {
    serveRegistration({ client_secret: 'upstream-secret-value-0123456789', token_endpoint_auth_method: undefined });
    expect((await obtain(request())).tokenEndpointAuthMethod).toBe('client_secret_basic');
  });

  it('registers again when the stored secret cannot be opened (another sealing key)', async () => {
    serveRegistration({ client_secret: 'upstream-secret-value-0123456789' });
    await obtain(request());
    const client = await obtain(request(), { sealedBox: createSealedBox(randomBytes(32)) });
    expect(client.clientId).toBe('client-2');
  });

  it('registers again when the stored secret has expired', async () => {
    serveRegistration({ client_secret: 'upstream-secret-value-0123456789', client_secret_expires_at: 1_000 });
    await obtain(request(), { now: () => 999_000 });
    expect((await obtain(request(), { now: () => 999_500 })).clientId).toBe('client-1');
    expect((await obtain(request(), { now: () => 1_000_000 })).clientId).toBe('client-2');
  });

  it('registers again when the gateway’s callback changed', async () => {
    serveRegistration();
    await obtain(request());
    const client = await obtain(request({ redirectUri: new URL('https://new.example/callback') }));
    expect(client.clientId).toBe('client-2');
  });

  it('registers again when the stored entry is not one it wrote', async () => {
    serveRegistration();
    await store.set(upstreamClientStoreKey('notes', as.base), { clientId: 42 });
    expect((await obtain(request())).clientId).toBe('client-1');
  });

  it('two replicas registering at once end up with the same client', async () => {
    serveRegistration();
    const [a, b] = await Promise.all([obtain(request()), obtain(request())]);
    expect(a.clientId).toBe(b.clientId);
  });

  it('keeps registrations apart per server and per authorization server', async () => {
    serveRegistration();
    await obtain(request());
    await obtain(request({ server: 'files' }));
    expect((await store.keys('upstream-client:')).sort()).toEqual([upstreamClientStoreKey('files', as.base), upstreamClientStoreKey('notes', as.base)]);
  });
});

describe('hostile registration answers', () => {
  it.each([
    ['without client_id', json({ redirect_uris: [redirectUri.href] }, { status: 201 }), 'client_id'],
    ['with a client_id that is not a string', json({ client_id: 42 }, { status: 201 }), 'client_id'],
    ['with an empty client_id', json({ client_id: '' }, { status: 201 }), 'client_id'],
    ['with redirect_uris that leave out ours', json({ client_id: 'c', redirect_uris: ['https://evil.example/cb'] }, { status: 201 }), 'redirect_uris'],
    ['that is an array', json([{ client_id: 'c' }], { status: 201 }), 'not a JSON object'],
    ['that is not JSON', json('<html>', { status: 201 }), 'not a JSON document'],
    ['served as HTML', reply(201, { 'content-type': 'text/html' }, '{"client_id":"c"}'), 'not a JSON document'],
    [
      'with an auth method it cannot use',
      json({ client_id: 'c', token_endpoint_auth_method: 'private_key_jwt' }, { status: 201 }),
      'token_endpoint_auth_method',
    ],
    [
      'with a confidential method but no secret',
      json({ client_id: 'c', token_endpoint_auth_method: 'client_secret_basic' }, { status: 201 }),
      'no client_secret',
    ],
    ['that refuses (RFC 7591 §3.2.2)', json({ error: 'invalid_redirect_uri', error_description: 'not allowed' }, { status: 400 }), 'invalid_redirect_uri'],
    ['that redirects', reply(302, { location: 'http://169.254.169.254/' }), 'HTTP 302'],
  ])('refuses an answer %s', async (_name, handler, word) => {
    as.on('POST /register', handler);
    const err = await failure(obtain(request()));
    expect(err.code).toBe('ERR_UPSTREAM_OAUTH_CLIENT');
    expect(err.message).toContain(word);
    expect(err.hint).toContain('--client-id ID --client-secret-env VAR');
    expect(await store.keys('')).toEqual([]);
  });

  it('never quotes an issued secret in an error', async () => {
    as.on('POST /register', json({ client_id: 'c', client_secret: 'leaky-secret-0123456789', redirect_uris: ['https://evil.example/cb'] }, { status: 201 }));
    const err = await failure(obtain(request()));
    expect(`${err.message} ${err.hint}`).not.toContain('leaky-secret');
  });

  it('gives up on a registration endpoint that does not answer in time', async () => {
    as.on('POST /register', () => undefined);
    http = createGuardedHttp({ allowPrivateNetworks: true, timeoutMs: 300 });
    const err = await failure(obtain(request()));
    expect(err.code).toBe('ERR_UPSTREAM_OAUTH_CLIENT');
    expect(err.message).toContain('within 300 ms');
  });

  it('does not post to a registration endpoint on a private address', async () => {
    http = createGuardedHttp({ timeoutMs: 2_000, lookup: async () => [{ address: '10.0.0.1', family: 4 }] });
    const err = await failure(obtain(request({}, { issuer: 'https://as.example', registrationEndpoint: 'https://as.example/register' })));
    expect(err.code).toBe('ERR_UPSTREAM_OAUTH_FORBIDDEN_TARGET');
  });
});

describe('no way to get a client', () => {
  it('says how to pre-register when the server offers neither CIMD nor registration', async () => {
    const err = await failure(obtain(request({}, { registrationEndpoint: undefined })));
    expect(err.code).toBe('ERR_UPSTREAM_OAUTH_CLIENT');
    expect(err.hint).toContain('--client-id ID --client-secret-env VAR');
    expect(err.hint).toContain('mcp-gateway add-server');
    expect(err.hint).toContain(redirectUri.href);
  });
});
