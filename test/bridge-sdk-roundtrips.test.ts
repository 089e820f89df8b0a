import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBridge, type BridgeHarness } from './helpers/bridge-harness.js';

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as Array<{ type: string; text: string }>)[0]!.text;
}

describe('server-to-client round trips and GET-stream resumption with the MCP SDK client', () => {
  let h: BridgeHarness;
  beforeAll(async () => {
    h = await startBridge();
  });
  afterAll(async () => {
    await h.stop();
  });

  async function connect(client: Client, sub = 'alice'): Promise<StreamableHTTPClientTransport> {
    const transport = new StreamableHTTPClientTransport(new URL(h.url), {
      requestInit: { headers: { 'x-user-sub': sub } },
      reconnectionOptions: { initialReconnectionDelay: 50, maxReconnectionDelay: 200, reconnectionDelayGrowFactor: 1, maxRetries: 10 },
    });
    await client.connect(transport);
    return transport;
  }

  it('relays sampling/createMessage to the client and its answer back to the child', async () => {
    const client = new Client({ name: 'sampler', version: '1.0.0' }, { capabilities: { sampling: {} } });
    const prompts: string[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const [content] = [request.params.messages[0]!.content].flat();
      prompts.push(content?.type === 'text' ? content.text : String(content?.type));
      return { role: 'assistant', content: { type: 'text', text: 'sampled: 42' }, model: 'test-model' };
    });
    const transport = await connect(client);
    expect(textOf(await client.callTool({ name: 'sample', arguments: { prompt: 'the answer?' } }))).toBe('sampled: 42');
    expect(prompts).toEqual(['the answer?']);
    await transport.terminateSession();
    await client.close();
  });

  it('relays elicitation/create to the client and its accepted content back to the child', async () => {
    const client = new Client({ name: 'eliciter', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Ada' } }));
    const transport = await connect(client);
    const result = JSON.parse(textOf(await client.callTool({ name: 'elicit', arguments: { message: 'Who are you?' } })));
    expect(result).toEqual({ action: 'accept', content: { name: 'Ada' } });
    await transport.terminateSession();
    await client.close();
  });

  it('resumes a GET stream cut by the network with Last-Event-ID: every event arrives once, in order', async () => {
    const client = new Client({ name: 'listener', version: '1.0.0' });
    const events: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      events.push(String(notification.params.data));
    });
    const transport = await connect(client);
    const gets = () => h.requests.filter(({ req }) => req.method === 'GET' && req.headers['mcp-session-id'] === transport.sessionId);
    await expect.poll(() => gets().length).toBe(1); // the SDK opens the GET stream after initialized

    expect(textOf(await client.callTool({ name: 'notify', arguments: { count: 8, delayMs: 40 } }))).toBe('sending 8');
    await expect.poll(() => events.length).toBeGreaterThanOrEqual(2);
    gets()[0]!.res.socket?.destroy(); // the connection drops; events keep coming meanwhile

    await expect.poll(() => events.length, { timeout: 5_000 }).toBe(8);
    expect(events).toEqual(['event 1', 'event 2', 'event 3', 'event 4', 'event 5', 'event 6', 'event 7', 'event 8']);
    const resumed = gets()[1];
    expect(resumed?.req.headers['last-event-id']).toMatch(/^\d+$/);
    await transport.terminateSession();
    await client.close();
  });
});
