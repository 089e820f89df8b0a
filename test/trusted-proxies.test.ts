import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../runtime/config/load-config.js';
import { type ClientAddress, clientAddress } from '../runtime/http/client-address.js';
import type { RunningRuntime } from '../runtime/entrypoints/http-runtime.js';
import { startRouterRuntime, startRouterRuntimeFromEnv } from '../runtime/entrypoints/router-runtime.js';
import { trustedProxyHosts } from '../runtime/router/trusted-proxy-hosts.js';
import { silentLogger } from '../runtime/logger.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { logRecords } from './helpers/log-records.js';
import { send } from './helpers/raw-http.js';
import { makeTempDir, removeTempDir } from './helpers/cli-run.js';

/**
 * `trustedProxies`: behind a TLS proxy, a load balancer or an Ingress controller the operator
 * names, the client's address is the one that proxy forwards for (per-address rate limits, audit
 * lines); from anyone else X-Forwarded-For is never believed, whatever it says.
 */

const BASE_CONFIG = { publicUrl: 'http://127.0.0.1:9', provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'] };

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

async function close(server: Server | undefined): Promise<void> {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
}

/** A stand-in for the auth runtime behind the router: records the X-Forwarded-For each request brought. */
function recordingAuth(forwarded: Array<string | undefined>): Server {
  return createServer((req, res) => {
    forwarded.push(req.headers['x-forwarded-for'] as string | undefined);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
}

describe('trustedProxies in the config', () => {
  const parse = (trustedProxies: unknown) => parseConfig({ ...BASE_CONFIG, trustedProxies }, 'test config');

  it('takes IP addresses and CIDR ranges of both families, trimmed', () => {
    expect(parse(['127.0.0.1', ' 10.0.0.0/8 ', '::1', 'fd00::/8', '192.168.1.7/32']).trustedProxies).toEqual([
      '127.0.0.1',
      '10.0.0.0/8',
      '::1',
      'fd00::/8',
      '192.168.1.7/32',
    ]);
  });

  it.each([
    ['a name', 'loopback', /not an IP address or CIDR range/],
    ['a host name', 'proxy.internal', /not an IP address or CIDR range/],
    ['a netmask', '10.0.0.0/255.0.0.0', /prefix length .* must be 1-32/],
    ['too long a prefix', '10.0.0.0/33', /must be 1-32/],
    ['too long an IPv6 prefix', 'fd00::/129', /must be 1-128/],
    ['every IPv4 address', '0.0.0.0/0', /is every address/],
    ['every IPv6 address', '::/0', /is every address/],
    ['two prefixes', '10.0.0.0/8/9', /not an IP address or CIDR range/],
    ['a zone index', 'fe80::1%eth0', /not an IP address or CIDR range/],
    ['a port', '10.0.0.1:443', /not an IP address or CIDR range/],
    ['an empty string', '', /not an IP address or CIDR range/],
  ])('refuses %s, naming the field', (_what, value, message) => {
    expect(() => parse([value])).toThrow(/trustedProxies\.0/);
    expect(() => parse([value])).toThrow(message);
  });

  it('refuses what is not a list of strings, and a list longer than 64, without quoting a huge value whole', () => {
    expect(() => parse('10.0.0.0/8')).toThrow(/trustedProxies/);
    expect(() => parse([{ cidr: '10.0.0.0/8' }])).toThrow(/trustedProxies\.0/);
    expect(() => parse(Array.from({ length: 65 }, (_, i) => `10.0.0.${i}`))).toThrow(/trustedProxies/);
    let message = '';
    try {
      parse(['x'.repeat(100_000)]);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/not an IP address/);
    expect(message.length).toBeLessThan(2_000);
  });
});

describe('the client address of a request', () => {
  let server: Server;
  let base: string;
  let address: ClientAddress;
  beforeAll(async () => {
    server = createServer((req, res) => res.end(JSON.stringify({ address: address(req) ?? null })));
    base = await listen(server);
  });
  afterAll(() => close(server));

  async function seen(trusted: string[], forwardedFor: string | string[] | undefined, trustedHops = 0): Promise<string | null> {
    address = clientAddress(trusted, { trustedHops });
    const headers: Record<string, string | string[]> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor };
    const res = await send(base, { path: '/', headers });
    return (JSON.parse(res.body) as { address: string | null }).address;
  }

  it('is the peer when no proxy is trusted, whatever X-Forwarded-For says', async () => {
    expect(await seen([], '203.0.113.9')).toBe('127.0.0.1');
    expect(await seen(['10.0.0.0/8'], '203.0.113.9')).toBe('127.0.0.1');
  });

  it('is who a trusted peer forwards for; addresses a client put before it are never read', async () => {
    expect(await seen(['127.0.0.1'], '203.0.113.9')).toBe('203.0.113.9');
    expect(await seen(['127.0.0.1'], '198.51.100.1, 203.0.113.9')).toBe('203.0.113.9');
    expect(await seen(['127.0.0.1'], ['198.51.100.1', '203.0.113.9'])).toBe('203.0.113.9');
    expect(await seen(['127.0.0.1'], undefined)).toBe('127.0.0.1');
    expect(await seen(['127.0.0.1'], '2001:db8::7')).toBe('2001:db8::7');
  });

  it('walks past every trusted proxy of the chain, and stops at the first it does not trust', async () => {
    expect(await seen(['127.0.0.1', '10.0.0.0/8'], '203.0.113.9, 10.1.2.3, 10.4.5.6')).toBe('203.0.113.9');
    expect(await seen(['127.0.0.1', '10.0.0.0/8'], '10.9.9.9, 203.0.113.9, 10.1.2.3')).toBe('203.0.113.9');
  });

  it('never takes an entry that is not an address: the proxy that handed it over is the client then', async () => {
    for (const forged of ['garbage', '203.0.113.9:4711', '<script>alert(1)</script>', 'unknown', '', ' , ', '"\\n{"event":"forged"}']) {
      expect(await seen(['127.0.0.1'], forged), forged).toBe('127.0.0.1');
    }
    expect(await seen(['127.0.0.1', '10.0.0.0/8'], 'garbage, 10.1.2.3')).toBe('10.1.2.3');
  });

  it('reads a header of thousands of entries without trouble', async () => {
    const many = Array.from({ length: 1_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join(', ');
    expect(await seen(['127.0.0.1'], `${many}, 203.0.113.9`)).toBe('203.0.113.9');
    expect(await seen(['127.0.0.1', '10.0.0.0/8'], many)).toBe('10.0.0.0');
  });

  it('with hops always trusted (the auth runtime behind the router or Traefik), the nearest untrusted one past them', async () => {
    expect(await seen([], '203.0.113.9', 1)).toBe('203.0.113.9');
    expect(await seen([], '198.51.100.1, 203.0.113.9', 1)).toBe('203.0.113.9');
    expect(await seen(['192.0.2.0/24'], '203.0.113.9, 192.0.2.10', 1)).toBe('203.0.113.9');
    expect(await seen([], undefined, 1)).toBe('127.0.0.1');
  });
});

describe('serve behind a TLS proxy the config trusts', () => {
  let trusting: GatewayHarness;
  let plain: GatewayHarness;
  const trustingLog = logRecords();
  const plainLog = logRecords();
  const logged = trustingLog.records;
  beforeAll(async () => {
    const limits = { clients: { registrationsPer10Min: 2 } };
    trusting = await startGatewayHarness({ ...limits, trustedProxies: ['127.0.0.1'] }, { logger: trustingLog.logger });
    plain = await startGatewayHarness(limits, { logger: plainLog.logger });
  });
  afterAll(async () => {
    await trusting?.close();
    await plain?.close();
  });

  function register(h: GatewayHarness, forwardedFor: string): Promise<Response> {
    return fetch(h.urls.registrationEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
      body: JSON.stringify({ client_name: 'proxied', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:5/cb'] }),
    });
  }

  it('counts the registration limit per forwarded client, and the audit line names that client', async () => {
    const statuses = async (h: GatewayHarness, forwardedFor: string): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 3; i++) out.push((await register(h, forwardedFor)).status);
      return out;
    };
    expect(await statuses(trusting, '203.0.113.9')).toEqual([201, 201, 429]);
    // Another client behind the same proxy has a limit of its own.
    expect(await statuses(trusting, '198.51.100.1, 203.0.113.10')).toEqual([201, 201, 429]);
    const registered = logged.filter((line) => line['event'] === 'client_registered').map((line) => line['ip']);
    expect(registered).toEqual(['203.0.113.9', '203.0.113.9', '203.0.113.10', '203.0.113.10']);
    const limited = logged.filter((line) => line['event'] === 'access_denied' && line['reason'] === 'registration rate limit').map((line) => line['ip']);
    expect(limited).toEqual(['203.0.113.9', '203.0.113.10']);
  });

  it('without trustedProxies a forged X-Forwarded-For buys no fresh limit', async () => {
    expect((await register(plain, '203.0.113.1')).status).toBe(201);
    expect((await register(plain, '203.0.113.2')).status).toBe(201);
    expect((await register(plain, '203.0.113.3')).status).toBe(429);
    expect(plainLog.records.filter((line) => line['event'] === 'client_registered').map((line) => line['ip'])).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('says once that it ignored X-Forwarded-For, naming the peer and the key to set; never when the peer is trusted', async () => {
    const hints = plainLog.records.filter((line) => line['event'] === 'forwarded_for_ignored');
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatchObject({ level: 40, peer: '127.0.0.1' });
    expect(String(hints[0]!['msg'])).toContain('add its address to trustedProxies');
    expect(JSON.stringify(hints)).not.toContain('203.0.113');
    expect(logged.some((line) => line['event'] === 'forwarded_for_ignored')).toBe(false);
  });
});

describe('the router container behind an Ingress controller or load balancer', () => {
  let auth: Server;
  let authUrl: string;
  const forwarded: Array<string | undefined> = [];
  beforeAll(async () => {
    auth = recordingAuth(forwarded);
    authUrl = await listen(auth);
  });
  afterAll(() => close(auth));

  async function throughRouter(
    trustedProxies: string[] | undefined,
    headers: Array<Record<string, string>>,
    logger = silentLogger(),
  ): Promise<Array<string | undefined>> {
    const config = parseConfig({ ...BASE_CONFIG, ...(trustedProxies ? { trustedProxies } : {}) }, 'test config');
    const router = await startRouterRuntime({ config, authUrl, bridgeUrl: 'http://127.0.0.1:9/{name}', logger }, { host: '127.0.0.1', port: 0 });
    forwarded.length = 0;
    try {
      for (const h of headers) expect((await send(`http://127.0.0.1:${router.address.port}`, { path: '/register', headers: h })).status).toBe(200);
    } finally {
      await router.close();
    }
    return [...forwarded];
  }

  it('hands auth exactly one address: who the trusted proxy forwards for, else the peer', async () => {
    const headers = [{ 'x-forwarded-for': '203.0.113.9' }, { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' }, { 'x-forwarded-for': 'garbage' }, {}];
    expect(await throughRouter(['127.0.0.0/8'], headers)).toEqual(['203.0.113.9', '203.0.113.9', '127.0.0.1', '127.0.0.1']);
    expect(await throughRouter(undefined, headers)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
    expect(await throughRouter(['10.0.0.0/8'], headers)).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  it('says once that it ignored X-Forwarded-For from a peer it does not trust, and never when it trusts it', async () => {
    const headers = [{ 'x-forwarded-for': '203.0.113.9' }, { 'x-forwarded-for': '203.0.113.10' }];
    const untrusted = logRecords();
    await throughRouter(['10.0.0.0/8'], headers, untrusted.logger);
    expect(untrusted.records.filter((line) => line['event'] === 'forwarded_for_ignored')).toMatchObject([{ peer: '127.0.0.1' }]);
    const trusted = logRecords();
    await throughRouter(['127.0.0.1'], headers, trusted.logger);
    expect(trusted.records.some((line) => line['event'] === 'forwarded_for_ignored')).toBe(false);
  });
});

describe('proxies known by name (MCPGW_TRUSTED_PROXY_HOSTS: Traefik in front of the router on a swarm)', () => {
  let auth: Server;
  let authUrl: string;
  let dir: string;
  const forwarded: Array<string | undefined> = [];
  beforeAll(async () => {
    auth = recordingAuth(forwarded);
    authUrl = await listen(auth);
    dir = await makeTempDir('mcpgw-trusted-hosts-');
    await writeFile(join(dir, 'mcp-gateway.yaml'), stringify(BASE_CONFIG));
  });
  afterAll(async () => {
    await close(auth);
    await removeTempDir(dir);
  });

  async function fromEnv(hosts: string): Promise<RunningRuntime> {
    return startRouterRuntimeFromEnv({
      env: { MCPGW_CONFIG: join(dir, 'mcp-gateway.yaml'), MCPGW_LISTEN: '127.0.0.1:0', MCPGW_AUTH_URL: authUrl, MCPGW_TRUSTED_PROXY_HOSTS: hosts },
      logger: silentLogger(),
    });
  }

  it('believes the X-Forwarded-For of a peer the name resolves to (localhost, through the real resolver)', async () => {
    const router = await fromEnv(' localhost , tasks.traefik.invalid');
    try {
      forwarded.length = 0;
      await send(`http://127.0.0.1:${router.address.port}`, { path: '/register', headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' } });
      expect(forwarded).toEqual(['203.0.113.9']);
    } finally {
      await router.close();
    }
  });

  it('refuses a value that is not a list of host names, before listening', async () => {
    for (const hosts of ['10.0.0.0/8', 'traefik:80', 'a..b', `x${'.y'.repeat(200)}`]) {
      await expect(fromEnv(hosts), hosts).rejects.toMatchObject({ code: 'ERR_CONFIG_INVALID' });
    }
  });

  it('looks the names up again: a new address is trusted, one gone is not; a name that does not resolve trusts nobody and warns once', async () => {
    let answer: string[] | NodeJS.ErrnoException = ['10.0.0.5'];
    const { logger, records } = logRecords();
    const hosts = trustedProxyHosts({
      names: ['tasks.traefik'],
      logger,
      refreshMs: 20,
      lookup: async () => {
        if (answer instanceof Error) throw answer;
        return answer.map((address) => ({ address }));
      },
    });
    try {
      await hosts.ready;
      expect(hosts.has('10.0.0.5')).toBe(true);
      expect(hosts.has('::ffff:10.0.0.5')).toBe(true);
      expect(hosts.has('10.0.0.6')).toBe(false);
      answer = ['10.0.0.6'];
      await expect.poll(() => hosts.has('10.0.0.6')).toBe(true);
      expect(hosts.has('10.0.0.5')).toBe(false);
      // A resolver that fails for another reason keeps what was known.
      answer = Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
      await new Promise((resolve) => setTimeout(resolve, 80));
      expect(hosts.has('10.0.0.6')).toBe(true);
      answer = Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      await expect.poll(() => hosts.has('10.0.0.6')).toBe(false);
      expect(records.filter((line) => line['event'] === 'trusted_proxy_lookup_failed')).toHaveLength(1);
    } finally {
      hosts.close();
    }
  });
});
