import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';

/** Requests to 127.0.0.1 with the Host a client would send for NAME.<domain>. */
function get(
  h: GatewayHarness,
  host: string,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: h.gateway.address.port, path, method, headers: { host, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('subdomain routing (deploy.routing: subdomain)', () => {
  let h: GatewayHarness;
  let port: number;
  beforeAll(async () => {
    h = await startGatewayHarness({ deploy: { routing: 'subdomain', domain: 'mcp.test' } });
    port = h.gateway.address.port;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('names each server by its subdomain, with metadata served on that subdomain', async () => {
    expect(h.urls.resourceFor('echo')).toBe(`http://echo.mcp.test:${port}/mcp`);
    const challenge = await get(h, `echo.mcp.test:${port}`, '/mcp', {}, 'POST', '{}');
    expect(challenge.status).toBe(401);
    expect(challenge.headers['www-authenticate']).toBe(`Bearer resource_metadata="http://echo.mcp.test:${port}/.well-known/oauth-protected-resource/mcp"`);
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const prm = await get(h, `echo.mcp.test:${port}`, path);
      expect(prm.status, path).toBe(200);
      expect(JSON.parse(prm.body).resource).toBe(`http://echo.mcp.test:${port}/mcp`);
    }
    const as = await get(h, `other.mcp.test:${port}`, '/.well-known/oauth-authorization-server');
    expect(JSON.parse(as.body).issuer).toBe(h.urls.issuer);
  });

  it("accepts a token on its own subdomain and refuses it on another server's", async () => {
    const { token } = await signAccessToken(
      { sub: 'alice', login: 'alice', clientId: 'c', audience: h.urls.resourceFor('echo') },
      { keys: h.keys, issuer: h.urls.issuer, ttlMs: 60_000, now: Date.now() },
    );
    const init = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    });
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    expect((await get(h, `echo.mcp.test:${port}`, '/mcp', headers, 'POST', init)).status).toBe(200);
    expect((await get(h, `other.mcp.test:${port}`, '/mcp', headers, 'POST', init)).status).toBe(401);
    // The path style's addresses mean nothing here.
    expect((await get(h, `127.0.0.1:${port}`, '/echo/mcp', headers, 'POST', init)).status).toBe(404);
  });
});
