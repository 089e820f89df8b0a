import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCimdResolver, type CimdResolverOptions, type HostLookup } from '../runtime/auth/clients/cimd/cimd-resolver.js';
import { isGatewayError } from '../runtime/errors.js';

/**
 * The CIMD resolver against real HTTP on loopback. Serving a document needs
 * `allowPrivateNetworks` (plain http on 127.0.0.1); the SSRF guard is exercised with the default
 * options and a `lookup` that makes a public-looking name resolve to internal addresses.
 */

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface DocServer {
  base: string;
  routes: Map<string, Handler>;
  hits: Map<string, number>;
  requests: IncomingMessage[];
  close(): Promise<void>;
}

async function startDocServer(host = '127.0.0.1'): Promise<DocServer> {
  const routes = new Map<string, Handler>();
  const hits = new Map<string, number>();
  const requests: IncomingMessage[] = [];
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    requests.push(req);
    const handler = routes.get(path);
    if (handler) handler(req, res);
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    routes,
    hits,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function json(body: unknown, headers: Record<string, string> = {}): Handler {
  return (_req, res) => res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

function documentFor(clientId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: clientId,
    client_name: 'Example MCP Client',
    client_uri: 'https://app.example.com',
    logo_uri: 'https://app.example.com/logo.png',
    redirect_uris: ['http://127.0.0.1:3000/callback', 'https://app.example.com/oauth/callback'],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
    ...extra,
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isGatewayError(err)) return err.code;
    throw err;
  }
  throw new Error('expected the promise to reject');
}

async function messageOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof Error) return err.message;
  }
  throw new Error('expected the promise to reject');
}

let docs: DocServer;
let clock: number;
const local = (options: CimdResolverOptions = {}) => createCimdResolver({ allowPrivateNetworks: true, now: () => clock, ...options });

beforeAll(async () => {
  docs = await startDocServer();
});
afterAll(async () => {
  await docs.close();
});
afterEach(() => {
  docs.routes.clear();
  docs.hits.clear();
  docs.requests.length = 0;
  clock = 1_000_000;
});
clock = 1_000_000;

describe('resolving a document', () => {
  it('turns a valid document into a public client, asking for JSON', async () => {
    const clientId = `${docs.base}/oauth/client.json`;
    docs.routes.set('/oauth/client.json', json(documentFor(clientId, { scope: 'mcp', software_id: 'ignored' })));
    const client = await local().resolve(clientId);
    expect(client).toEqual({
      clientId,
      clientName: 'Example MCP Client',
      clientUri: 'https://app.example.com',
      logoUri: 'https://app.example.com/logo.png',
      redirectUris: ['http://127.0.0.1:3000/callback', 'https://app.example.com/oauth/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      responseTypes: ['code'],
      tokenEndpointAuthMethod: 'none',
      scope: 'mcp',
    });
    expect(docs.requests[0]?.headers.accept).toBe('application/json');
  });

  it('treats a document without token_endpoint_auth_method or grant_types as a public code-flow client', async () => {
    const clientId = `${docs.base}/minimal`;
    docs.routes.set('/minimal', json({ client_id: clientId, redirect_uris: ['https://app.example.com/cb'] }));
    const client = await local().resolve(clientId);
    expect(client.tokenEndpointAuthMethod).toBe('none');
    expect(client.grantTypes).toEqual(['authorization_code', 'refresh_token']);
  });

  it('accepts a more specific +json content type and ignores grant types meant for other servers', async () => {
    const clientId = `${docs.base}/specific`;
    docs.routes.set(
      '/specific',
      json(documentFor(clientId, { grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'] }), {
        'content-type': 'application/client-metadata+json; charset=utf-8',
      }),
    );
    expect((await local().resolve(clientId)).grantTypes).toEqual(['authorization_code']);
  });

  it.each([
    ['client_id differs from the URL', (id: string) => documentFor(`${id}/`)],
    ['client_id is missing', (id: string) => ({ ...documentFor(id), client_id: undefined })],
    ['redirect_uris is missing', (id: string) => ({ ...documentFor(id), redirect_uris: undefined })],
    ['redirect_uris is empty', (id: string) => documentFor(id, { redirect_uris: [] })],
    ['a redirect URI is javascript:', (id: string) => documentFor(id, { redirect_uris: ['javascript:alert(1)'] })],
    ['a redirect URI has a fragment', (id: string) => documentFor(id, { redirect_uris: ['https://app.example.com/cb#x'] })],
    ['a redirect URI is http on a public host', (id: string) => documentFor(id, { redirect_uris: ['http://app.example.com/cb'] })],
    ['it carries a client_secret', (id: string) => documentFor(id, { client_secret: 's3cret' })],
    ['it carries client_secret_expires_at', (id: string) => documentFor(id, { client_secret_expires_at: 0 })],
    ['it asks for client_secret_basic', (id: string) => documentFor(id, { token_endpoint_auth_method: 'client_secret_basic' })],
    ['it asks for client_secret_jwt', (id: string) => documentFor(id, { token_endpoint_auth_method: 'client_secret_jwt' })],
    ['it asks for private_key_jwt, which the gateway does not support', (id: string) => documentFor(id, { token_endpoint_auth_method: 'private_key_jwt' })],
    ['it publishes a private key', (id: string) => documentFor(id, { jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'private' }] } })],
    ['grant_types lacks authorization_code', (id: string) => documentFor(id, { grant_types: ['client_credentials'] })],
    ['response_types lacks code', (id: string) => documentFor(id, { response_types: ['token'] })],
    ['client_uri is javascript:', (id: string) => documentFor(id, { client_uri: 'javascript:alert(1)' })],
    ['it is a JSON array', () => [1, 2]],
  ])('refuses a document when %s', async (_name, build) => {
    const clientId = `${docs.base}/bad`;
    docs.routes.set('/bad', json(build(clientId)));
    expect(await codeOf(local().resolve(clientId))).toBe('ERR_CIMD_INVALID');
  });

  it('names the client_id it expected when the document names another', async () => {
    const clientId = `${docs.base}/mismatch`;
    docs.routes.set('/mismatch', json(documentFor('https://evil.example/client')));
    expect(await messageOf(local().resolve(clientId))).toContain('https://evil.example/client');
  });

  it('refuses a body that is not JSON, or not served as JSON', async () => {
    docs.routes.set('/broken', (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"client_id": '));
    docs.routes.set('/html', (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'));
    const resolver = local();
    expect(await codeOf(resolver.resolve(`${docs.base}/broken`))).toBe('ERR_CIMD_INVALID');
    expect(await codeOf(resolver.resolve(`${docs.base}/html`))).toBe('ERR_CIMD_INVALID');
  });
});

describe('fetch limits', () => {
  it('refuses a streamed body larger than maxBytes and stops reading', async () => {
    const clientId = `${docs.base}/huge`;
    docs.routes.set('/huge', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"client_id": ${JSON.stringify(clientId)}, "padding": "`);
      const chunk = 'x'.repeat(1024);
      for (let i = 0; i < 64; i++) res.write(chunk);
      res.end('"}');
    });
    const err = await local({ maxBytes: 5 * 1024 })
      .resolve(clientId)
      .catch((e: unknown) => e);
    expect(isGatewayError(err) && err.code).toBe('ERR_CIMD_FETCH_FAILED');
    expect((err as Error).message).toContain('larger than 5120 bytes');
  });

  it('refuses a declared Content-Length above maxBytes before reading', async () => {
    const clientId = `${docs.base}/declared`;
    docs.routes.set('/declared', (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': '6000' }).end('x'.repeat(6000)));
    expect(await codeOf(local().resolve(clientId))).toBe('ERR_CIMD_FETCH_FAILED');
  });

  it('gives up on a server that never answers once timeoutMs has passed', async () => {
    docs.routes.set('/silent', () => {});
    const started = Date.now();
    expect(await codeOf(local({ timeoutMs: 300 }).resolve(`${docs.base}/silent`))).toBe('ERR_CIMD_FETCH_FAILED');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('gives up on a server that sends headers and then trickles the body', async () => {
    docs.routes.set('/trickle', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{');
    });
    const started = Date.now();
    expect(await codeOf(local({ timeoutMs: 300 }).resolve(`${docs.base}/trickle`))).toBe('ERR_CIMD_FETCH_FAILED');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails at once when the server drops the connection in the middle of the document', async () => {
    docs.routes.set('/cut', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
      res.write('{"client_id": ', () => res.destroy());
    });
    const started = Date.now();
    expect(await codeOf(local({ timeoutMs: 5_000 }).resolve(`${docs.base}/cut`))).toBe('ERR_CIMD_FETCH_FAILED');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('does not follow a 302 and names where it pointed', async () => {
    const target = `${docs.base}/real`;
    docs.routes.set('/moved', (_req, res) => res.writeHead(302, { location: target }).end());
    docs.routes.set('/real', json(documentFor(`${docs.base}/moved`)));
    const err = await local()
      .resolve(`${docs.base}/moved`)
      .catch((e: unknown) => e);
    expect(isGatewayError(err) && err.code).toBe('ERR_CIMD_FETCH_FAILED');
    expect((err as Error).message).toContain(target);
    expect(docs.hits.get('/real')).toBeUndefined();
  });

  it('treats a 404 as a failed fetch', async () => {
    expect(await codeOf(local().resolve(`${docs.base}/missing`))).toBe('ERR_CIMD_FETCH_FAILED');
  });

  it('reports a host that does not resolve as a failed fetch', async () => {
    const lookup: HostLookup = () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }));
    expect(await codeOf(createCimdResolver({ lookup }).resolve('https://nowhere.example/client.json'))).toBe('ERR_CIMD_FETCH_FAILED');
  });
});

describe('caching', () => {
  it('serves a document again from the cache within its max-age, and fetches it after', async () => {
    const clientId = `${docs.base}/cached`;
    docs.routes.set('/cached', json(documentFor(clientId), { 'cache-control': 'max-age=600' }));
    const resolver = local();
    await resolver.resolve(clientId);
    clock += 599_000;
    await resolver.resolve(clientId);
    expect(docs.hits.get('/cached')).toBe(1);
    clock += 2_000;
    await resolver.resolve(clientId);
    expect(docs.hits.get('/cached')).toBe(2);
  });

  it('fetches a no-store document every time', async () => {
    const clientId = `${docs.base}/nostore`;
    docs.routes.set('/nostore', json(documentFor(clientId), { 'cache-control': 'no-store' }));
    const resolver = local();
    await resolver.resolve(clientId);
    await resolver.resolve(clientId);
    expect(docs.hits.get('/nostore')).toBe(2);
  });

  it('keeps a short max-age for at least minCacheMs and a long one for at most maxCacheMs', async () => {
    const shortId = `${docs.base}/short`;
    const longId = `${docs.base}/long`;
    docs.routes.set('/short', json(documentFor(shortId), { 'cache-control': 'max-age=1' }));
    docs.routes.set('/long', json(documentFor(longId), { 'cache-control': 'max-age=31536000' }));
    const resolver = local({ minCacheMs: 60_000, maxCacheMs: 3_600_000 });
    await resolver.resolve(shortId);
    await resolver.resolve(longId);
    clock += 59_000;
    await resolver.resolve(shortId);
    expect(docs.hits.get('/short')).toBe(1);
    clock += 3_600_000;
    await resolver.resolve(longId);
    expect(docs.hits.get('/long')).toBe(2);
  });

  it('honours Expires relative to the response Date', async () => {
    const clientId = `${docs.base}/expires`;
    docs.routes.set('/expires', (_req, res) => {
      const date = Date.now();
      res
        .writeHead(200, { 'content-type': 'application/json', date: new Date(date).toUTCString(), expires: new Date(date + 300_000).toUTCString() })
        .end(JSON.stringify(documentFor(clientId)));
    });
    const resolver = local({ minCacheMs: 1_000 });
    await resolver.resolve(clientId);
    clock += 290_000;
    await resolver.resolve(clientId);
    expect(docs.hits.get('/expires')).toBe(1);
    clock += 15_000;
    await resolver.resolve(clientId);
    expect(docs.hits.get('/expires')).toBe(2);
  });

  it('lets concurrent resolves of one URL share a single fetch', async () => {
    const clientId = `${docs.base}/slow`;
    docs.routes.set('/slow', (req, res) => setTimeout(() => json(documentFor(clientId), { 'cache-control': 'no-store' })(req, res), 100));
    const resolver = local();
    const clients = await Promise.all(Array.from({ length: 5 }, () => resolver.resolve(clientId)));
    expect(docs.hits.get('/slow')).toBe(1);
    expect(new Set(clients.map((c) => c.clientId))).toEqual(new Set([clientId]));
    // Each caller gets its own copy: one mutating it cannot change what the others see.
    clients[0]!.redirectUris.push('https://attacker.example/cb');
    expect(clients[1]!.redirectUris).not.toContain('https://attacker.example/cb');
  });

  it('replays a failure for failureCacheMs instead of fetching again, then retries', async () => {
    const clientId = `${docs.base}/flaky`;
    const resolver = local({ failureCacheMs: 10_000 });
    expect(await codeOf(resolver.resolve(clientId))).toBe('ERR_CIMD_FETCH_FAILED');
    docs.routes.set('/flaky', json(documentFor(clientId)));
    expect(await codeOf(resolver.resolve(clientId))).toBe('ERR_CIMD_FETCH_FAILED');
    expect(docs.hits.get('/flaky')).toBe(1);
    clock += 10_001;
    expect((await resolver.resolve(clientId)).clientId).toBe(clientId);
    expect(docs.hits.get('/flaky')).toBe(2);
  });

  it('does not remember failures when failureCacheMs is 0 (the letter of CIMD §5.2)', async () => {
    const clientId = `${docs.base}/fixed`;
    const resolver = local({ failureCacheMs: 0 });
    expect(await codeOf(resolver.resolve(clientId))).toBe('ERR_CIMD_FETCH_FAILED');
    docs.routes.set('/fixed', json(documentFor(clientId)));
    expect((await resolver.resolve(clientId)).clientId).toBe(clientId);
  });
});

describe('client ID URLs (CIMD §3)', () => {
  const resolver = createCimdResolver();
  it.each([
    'https://example.com',
    'https://example.com?client=1',
    'https://example.com/client#frag',
    'https://example.com/client#',
    'https://user:pass@example.com/client',
    'https://user@example.com/client',
    'http://example.com/client',
    'http://127.0.0.1:3000/client',
    'https://example.com/a/../client',
    'https://example.com/a/%2e%2e/client',
    'https://example.com/./client',
    'https://Example.com/client',
    'https://example.com:443/client',
    'ftp://example.com/client',
    'javascript:alert(1)//example.com/client',
    'Zx9q3kPz_abcdef',
    '',
  ])('refuses %j', async (clientId) => {
    expect(resolver.isCimdClientId(clientId)).toBe(false);
    expect(await codeOf(resolver.resolve(clientId))).toBe('ERR_CIMD_INVALID');
  });

  it.each(['https://example.com/client.json', 'https://example.com:8443/oauth/client', 'https://example.com/', 'https://example.com/client?v=2'])(
    'accepts %j',
    (clientId) => {
      expect(resolver.isCimdClientId(clientId)).toBe(true);
    },
  );

  it('accepts http on a loopback host only when private networks are allowed', () => {
    expect(createCimdResolver({ allowPrivateNetworks: true }).isCimdClientId('http://127.0.0.1:3000/client')).toBe(true);
    expect(createCimdResolver({ allowPrivateNetworks: true }).isCimdClientId('http://10.0.0.1/client')).toBe(false);
  });
});

describe('SSRF guard (CIMD §8.6)', () => {
  it.each([
    ['10.0.0.1'],
    ['192.168.1.10'],
    ['172.16.5.4'],
    ['100.64.0.1'],
    ['169.254.169.254'],
    ['127.0.0.1'],
    ['0.0.0.0'],
    ['224.0.0.1'],
    ['::1'],
    ['::'],
    ['::ffff:127.0.0.1'],
    ['::ffff:a9fe:a9fe'],
    ['fe80::1'],
    ['fd00:ec2::254'],
    ['ff02::1'],
  ])('refuses a public-looking name that resolves to %s', async (address) => {
    const looked: string[] = [];
    const lookup: HostLookup = async (hostname) => {
      looked.push(hostname);
      return [{ address, family: address.includes(':') ? 6 : 4 }];
    };
    const err = await createCimdResolver({ lookup })
      .resolve('https://client.example/oauth/metadata.json')
      .catch((e: unknown) => e);
    expect(isGatewayError(err) && err.code).toBe('ERR_CIMD_FORBIDDEN_TARGET');
    expect((err as Error).message).toContain(address);
    expect(looked).toEqual(['client.example']);
  });

  it('refuses a name whose answers mix a public and a private address', async () => {
    const lookup: HostLookup = async () => [
      { address: '93.184.215.14', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ];
    expect(await codeOf(createCimdResolver({ lookup }).resolve('https://client.example/c'))).toBe('ERR_CIMD_FORBIDDEN_TARGET');
  });

  it.each(['https://127.0.0.1/client', 'https://[::1]/client', 'https://169.254.169.254/latest/meta-data', 'https://[::ffff:a00:1]/client'])(
    'refuses the IP literal in %s without any lookup',
    async (clientId) => {
      let lookups = 0;
      const resolver = createCimdResolver({
        lookup: async () => {
          lookups++;
          return [];
        },
      });
      expect(await codeOf(resolver.resolve(clientId))).toBe('ERR_CIMD_FORBIDDEN_TARGET');
      expect(lookups).toBe(0);
    },
  );

  it('refuses the loopback document server itself when private networks are not allowed', async () => {
    const clientId = `https://localhost:${new URL(docs.base).port}/client`;
    docs.routes.set('/client', json(documentFor(clientId)));
    expect(await codeOf(createCimdResolver().resolve(clientId))).toBe('ERR_CIMD_FORBIDDEN_TARGET');
    expect(docs.hits.size).toBe(0);
  });

  it('connects to the address it looked up once, not to a second DNS answer (no rebinding)', async () => {
    // The document is served on 127.0.0.2 only. The lookup answers 127.0.0.2 the first time and
    // 127.0.0.1 (where nothing serves this port) after that, as a rebinding DNS server would.
    const pinned = await startDocServer('127.0.0.2');
    try {
      const port = new URL(pinned.base).port;
      const clientId = `http://localhost:${port}/client.json`;
      pinned.routes.set('/client.json', json(documentFor(clientId)));
      let lookups = 0;
      const lookup: HostLookup = async () => [{ address: lookups++ === 0 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
      const client = await createCimdResolver({ allowPrivateNetworks: true, lookup }).resolve(clientId);
      expect(client.clientId).toBe(clientId);
      expect(lookups).toBe(1);
      expect(pinned.requests[0]?.headers.host).toBe(`localhost:${port}`);
    } finally {
      await pinned.close();
    }
  });
});

describe('IPv6', () => {
  it('fetches from an IPv6 literal host when private networks are allowed', async () => {
    const v6 = await startDocServer('::1');
    try {
      const clientId = `${v6.base}/client.json`;
      v6.routes.set('/client.json', json(documentFor(clientId)));
      expect((await createCimdResolver({ allowPrivateNetworks: true }).resolve(clientId)).clientId).toBe(clientId);
    } finally {
      await v6.close();
    }
  });
});

describe('construction', () => {
  it('throws a TypeError for nonsensical options', () => {
    expect(() => createCimdResolver({ timeoutMs: 0 })).toThrow(TypeError);
    expect(() => createCimdResolver({ minCacheMs: 10, maxCacheMs: 5 })).toThrow(TypeError);
    expect(() => createCimdResolver({ maxBytes: Number.NaN })).toThrow(TypeError);
  });
});
