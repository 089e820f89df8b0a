import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../runtime/logger.js';
import { createStdioBridge } from '../runtime/bridge/streamable-http-bridge.js';
import type { Bridge } from '../runtime/bridge/bridge.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/echo-mcp-server.mjs', import.meta.url));

describe('stdio bridge with the MCP SDK client', () => {
  let bridge: Bridge;
  let server: Server;
  let url: URL;

  beforeAll(async () => {
    bridge = createStdioBridge({
      serverName: 'echo',
      launch: { command: process.execPath, args: [FIXTURE], env: {} },
      logger: silentLogger(),
    });
    server = createServer((req, res) => void bridge.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`);
  });

  afterAll(async () => {
    await bridge.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function connect(sub: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers: { 'x-user-sub': sub } } });
    const client = new Client({ name: 'bridge-sdk-test', version: '1.0.0' });
    await client.connect(transport);
    return { client, transport };
  }

  it('connects, lists tools, calls echo and terminates the session', async () => {
    const { client, transport } = await connect('alice');
    expect(transport.sessionId).toBeTruthy();
    expect(client.getServerVersion()?.name).toBe('echo-fixture');
    expect(bridge.sessionCount).toBe(1);

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(expect.arrayContaining(['echo', 'add', 'slow', 'crash', 'env', 'pid']));

    const result = await client.callTool({ name: 'echo', arguments: { text: 'through the bridge' } });
    expect(result.content).toEqual([{ type: 'text', text: 'through the bridge' }]);

    await transport.terminateSession();
    expect(transport.sessionId).toBeUndefined();
    expect(bridge.sessionCount).toBe(0);
    await client.close();
  });

  it('delivers progress notifications to the SDK client before the result', async () => {
    const { client, transport } = await connect('bob');
    const progress: number[] = [];
    const result = await client.callTool({ name: 'slow', arguments: { steps: 3, delayMs: 10 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    });
    expect(progress).toEqual([1, 2, 3]);
    expect(result.content).toEqual([{ type: 'text', text: 'done after 3 steps' }]);
    await transport.terminateSession();
    await client.close();
  });
});
