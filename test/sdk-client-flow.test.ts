import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';

let h: GatewayHarness;
beforeAll(async () => {
  h = await startGatewayHarness();
});
afterAll(async () => {
  await h?.close();
});

describe('the MCP SDK client, unchanged, through the embedded gateway', () => {
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
    await expect(new Client({ name: 'sdk-e2e', version: '1.0.0' }).connect(new StreamableHTTPClientTransport(endpoint, { authProvider: again }))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(again.code()).toBeTruthy();
  });
});
