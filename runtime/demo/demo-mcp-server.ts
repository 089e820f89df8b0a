/**
 * The built-in demo MCP server (`serve --demo`, or `builtin: demo` in the config): a stdio server
 * with a few harmless tools, so the gateway can be tried on a machine with no network and no
 * Python or npx.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const server = new McpServer({ name: 'mcp-gateway-demo', version: '1.0.0' });

server.registerTool('echo', { description: 'Returns the text it is given.', inputSchema: { text: z.string().max(10_000) } }, async ({ text }) => ({
  content: [{ type: 'text', text }],
}));

server.registerTool('add', { description: 'Adds two numbers.', inputSchema: { a: z.number(), b: z.number() } }, async ({ a, b }) => ({
  content: [{ type: 'text', text: String(a + b) }],
}));

server.registerTool(
  'current_time',
  {
    description: 'The current time on the gateway host, in ISO 8601 and in a time zone of your choice.',
    inputSchema: { timeZone: z.string().max(64).optional() },
  },
  async ({ timeZone }) => {
    const now = new Date();
    let local: string;
    try {
      local = now.toLocaleString('en-GB', timeZone === undefined ? {} : { timeZone });
    } catch {
      return { isError: true, content: [{ type: 'text', text: `unknown time zone: ${timeZone}` }] };
    }
    return { content: [{ type: 'text', text: `${now.toISOString()} (${timeZone ?? 'local'}: ${local})` }] };
  },
);

await server.connect(new StdioServerTransport());
