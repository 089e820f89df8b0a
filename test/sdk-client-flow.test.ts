import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStore } from '../runtime/store/redis-store.js';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { startRedis } from './helpers/redis-server.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';

const redis = await startRedis();
if ('skip' in redis) console.warn(`skipping the Redis-backed flow: ${redis.skip}`);

const variants = [
  { name: 'embedded store', store: undefined, skip: false },
  {
    name: 'Redis store',
    store: 'url' in redis ? () => createRedisStore({ url: redis.url, keyPrefix: `mcpgw-test-${randomBytes(4).toString('hex')}:` }) : undefined,
    skip: 'skip' in redis,
  },
];

afterAll(async () => {
  if ('url' in redis) await redis.stop();
});

for (const variant of variants) {
  (variant.skip ? describe.skip : describe)(`the MCP SDK client, unchanged, through the embedded gateway (${variant.name})`, () => {
    let h: GatewayHarness;
    beforeAll(async () => {
      h = await startGatewayHarness({}, variant.store ? { store: variant.store } : {});
    });
    afterAll(async () => {
      await h?.close();
    });

    it('discovers, registers, logs in with GitHub, consents, gets a token and calls a tool', async () => {
      const endpoint = new URL(h.urls.resourceFor('echo'));
      const provider = new TestOAuthProvider('http://127.0.0.1:53682/callback', async (browser, url) => approveConsent(browser, await browser.open(url.href)));
      const client = new Client({ name: 'sdk-e2e', version: '1.0.0' });
      await expect(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
      expect(provider.lastLogin?.redirectedTo?.searchParams.get('iss')).toBe(h.urls.issuer);

      const transport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
      await transport.finishAuth(provider.code());
      await client.connect(transport);
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain('echo');
      const result = await client.callTool({ name: 'echo', arguments: { text: 'through the gateway' } });
      expect(result.content).toEqual([{ type: 'text', text: 'through the gateway' }]);
      await transport.terminateSession();
      await client.close();

      // A second connection of the same user and client is not asked for consent again.
      const again = new TestOAuthProvider('http://127.0.0.1:53682/callback', async (browser, url) => browser.open(url.href));
      again.client = provider.client;
      await expect(
        new Client({ name: 'sdk-e2e', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(endpoint, { authProvider: again })),
      ).rejects.toBeInstanceOf(UnauthorizedError);
      expect(again.code()).toBeTruthy();
    });
  });
}
