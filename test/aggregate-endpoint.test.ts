import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDeployment } from '../cli/deploy/deploy-plan.js';
import { signAccessToken } from '../runtime/auth/tokens/access-token.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { fileToolsServer, toolJournal } from './helpers/access-gateway.js';
import { ECHO_FIXTURE, startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';
import { runCli } from './helpers/cli-run.js';
import { tempProjectDir } from './helpers/temp-project.js';

/*
 * An aggregate endpoint (`servers.team.aggregate: [echo, conf, files]`) of three real stdio
 * servers, driven by the MCP SDK client through the whole OAuth flow (GitHub stand-in, consent):
 * merged lists under <server>__<name>, calls routed, each member's own access rules, a sampling
 * round trip through the aggregate, and one member killed mid-test while the others keep working.
 */

const CONFORMANCE_FIXTURE = fileURLToPath(new URL('./fixtures/conformance-2025-server.mjs', import.meta.url));
const journal = toolJournal();
let h: GatewayHarness;

beforeAll(async () => {
  h = await startGatewayHarness({
    servers: {
      echo: { command: process.execPath, args: [ECHO_FIXTURE] },
      conf: { command: process.execPath, args: [CONFORMANCE_FIXTURE] },
      files: fileToolsServer(journal, { tools: { deny: ['write_*'] } }),
      team: { aggregate: ['echo', 'conf', 'files'], description: 'everything at once' },
    },
  });
});
afterAll(async () => {
  await h?.close();
  journal.remove();
});

async function connectedClient(): Promise<{ client: Client; transport: StreamableHTTPClientTransport; sampled: string[] }> {
  const endpoint = new URL(h.urls.resourceFor('team'));
  const provider = new TestOAuthProvider('http://127.0.0.1:53682/callback', async (browser, url) => approveConsent(browser, await browser.open(url.href)));
  const sampled: string[] = [];
  const client = new Client({ name: 'aggregate-e2e', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const content = request.params.messages[0]?.content;
    sampled.push(content && 'text' in content ? String(content.text) : '');
    return { role: 'assistant', content: { type: 'text', text: 'sampled by the test' }, model: 'test-model' };
  });
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { username: 'alice', email: 'alice@example.com' } }));
  await expect(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
  const transport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
  await transport.finishAuth(provider.code());
  await client.connect(transport);
  return { client, transport, sampled };
}

describe('an aggregate endpoint through the whole gateway', () => {
  it('merges, routes, applies each member its own rules, round-trips sampling, and survives a member that dies', async () => {
    const { client, transport, sampled } = await connectedClient();
    expect(client.getServerVersion()?.name).toBe('team');

    const tools = (await client.listTools()).tools.map((tool) => tool.name);
    expect(tools).toEqual(
      expect.arrayContaining(['echo__echo', 'echo__add', 'conf__test_simple_text', 'conf__test_sampling', 'files__read_file', 'files__list_directory']),
    );
    // files' own deny list holds on the aggregate too: hidden and refused.
    expect(tools.filter((name) => name.startsWith('files__write'))).toEqual([]);
    expect(tools.every((name) => /^(echo|conf|files)__/.test(name))).toBe(true);

    expect((await client.callTool({ name: 'echo__echo', arguments: { text: 'through the aggregate' } })).content).toEqual([
      { type: 'text', text: 'through the aggregate' },
    ]);
    expect((await client.callTool({ name: 'files__read_file', arguments: { path: 'notes.txt' } })).content).toEqual([
      { type: 'text', text: 'contents of notes.txt' },
    ]);
    // A line separator inside an argument reaches the member as one line (the fixture splits at U+2028/9).
    expect((await client.callTool({ name: 'files__read_file', arguments: { path: 'a\u2028b\u2029c' } })).content).toEqual([
      { type: 'text', text: 'contents of a\u2028b\u2029c' },
    ]);
    for (const name of ['files__write_file', 'files__WRITE_FILE', 'files__ｗｒｉｔｅ_file']) {
      await expect(client.callTool({ name, arguments: { path: 'x', content: 'y' } }), name).rejects.toMatchObject({ code: -32602 });
    }
    // Not a member's name exactly: no member gets it, whatever it would have made of it.
    for (const name of ['FILES__write_file', 'ｆｉｌｅｓ__write_file', 'files＿＿write_file', 'write_file', 'nobody__echo']) {
      await expect(client.callTool({ name, arguments: { path: 'x' } }), name).rejects.toMatchObject({ code: -32602 });
    }
    expect(journal.calls()).toEqual(['read_file', 'read_file']);

    // A member's request to the client goes through the aggregate and back.
    const sampling = await client.callTool({ name: 'conf__test_sampling', arguments: { prompt: 'hello from the member' } });
    expect(sampling.content).toEqual([{ type: 'text', text: 'LLM response: sampled by the test' }]);
    expect(sampled).toEqual(['hello from the member']);

    const prompts = (await client.listPrompts()).prompts.map((prompt) => prompt.name);
    expect(prompts).toContain('conf__test_simple_prompt');
    expect((await client.getPrompt({ name: 'conf__test_simple_prompt' })).messages.length).toBeGreaterThan(0);
    const resources = (await client.listResources()).resources.map((resource) => resource.uri);
    expect(resources).toContain('conf__test://static-text');
    const read = await client.readResource({ uri: 'conf__test://static-text' });
    expect(read.contents[0]).toMatchObject({ uri: 'conf__test://static-text' });

    // echo dies mid-session: its tools leave the list, its calls get an error naming it, the others work.
    await expect(client.callTool({ name: 'echo__crash', arguments: {} })).rejects.toBeDefined();
    await expect.poll(async () => (await client.listTools()).tools.some((tool) => tool.name.startsWith('echo__')), { timeout: 10_000 }).toBe(false);
    await expect(client.callTool({ name: 'echo__echo', arguments: { text: 'x' } })).rejects.toThrow(/member server echo is unavailable/);
    expect((await client.callTool({ name: 'files__list_directory', arguments: { path: '/' } })).isError).not.toBe(true);
    expect((await client.callTool({ name: 'conf__test_simple_text', arguments: {} })).content).toBeDefined();

    await transport.terminateSession();
    await client.close();
  });
});

describe('a 2026-07-28 client on the aggregate', () => {
  it('gets the merged, filtered list and routed calls, stateless', async () => {
    const claims = { sub: 'github:1', login: 'alice', clientId: 'test-client', audience: h.urls.resourceFor('team') };
    const { token } = await signAccessToken(claims, { keys: h.keys, issuer: h.urls.issuer, ttlMs: 600_000, now: Date.now() });
    const post = async (method: string, params: Record<string, unknown>) => {
      const name = typeof params['name'] === 'string' ? { 'mcp-name': params['name'] } : {};
      const res = await fetch(h.urls.resourceFor('team'), {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': method,
          ...name,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 7,
          method,
          params: {
            ...params,
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': {},
              'io.modelcontextprotocol/clientInfo': { name: 'modern', version: '1' },
            },
          },
        }),
      });
      const text = await res.text();
      return JSON.parse(text.startsWith('{') ? text : (/^data: ?(.*)$/m.exec(text)?.[1] ?? '{}')) as Record<string, any>;
    };
    const list = await post('tools/list', {});
    const names: string[] = list['result'].tools.map((tool: { name: string }) => tool.name);
    expect(names).toContain('files__read_file');
    expect(names).not.toContain('files__write_file');
    expect((await post('tools/call', { name: 'files__read_file', arguments: { path: 'modern.txt' } }))['result']).toMatchObject({
      content: [{ type: 'text', text: 'contents of modern.txt' }],
    });
    expect((await post('tools/call', { name: 'files__write_file', arguments: { path: 'x' } }))['error']).toMatchObject({ code: -32602 });
  });
});

describe('aggregate config', () => {
  const base = (servers: Record<string, unknown>) => ({
    publicUrl: 'https://mcp.example.com',
    provider: { type: 'local', user: 'alice' },
    allowedUsers: ['alice'],
    servers: { a: { command: 'node', args: ['a.js'] }, b: { url: 'https://remote.example/mcp' }, ...servers },
  });
  const refused = (servers: Record<string, unknown>): string => {
    try {
      parseConfig(base(servers), 'test config');
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('accepts stdio and remote members', () => {
    expect(parseConfig(base({ team: { aggregate: ['a', 'b'] } }), 'test config').servers['team']).toEqual({ aggregate: ['a', 'b'] });
  });

  it('refuses unknown members, itself, an aggregate of an aggregate, duplicates and remote members with secret headers, with the dotted path', () => {
    expect(refused({ team: { aggregate: ['a', 'nope'] } })).toMatch(/servers\.team\.aggregate\.1.*no server named nope \(servers: a, b\)/);
    expect(refused({ team: { aggregate: ['team'] } })).toContain('cannot list itself');
    expect(refused({ team: { aggregate: ['a'] }, all: { aggregate: ['team', 'b'] } })).toMatch(
      /servers\.all\.aggregate\.0.*team is an aggregate itself; list its members instead \(a\)/,
    );
    expect(refused({ team: { aggregate: ['a', 'a'] } })).toContain('a is listed twice');
    expect(refused({ c: { url: 'https://remote.example/mcp', headers: ['Authorization'] }, team: { aggregate: ['c'] } })).toContain(
      'sends secret headers upstream',
    );
    expect(refused({ team: { aggregate: [] } })).toContain('at least one member');
    expect(refused({ team: { aggregate: ['a'], access: [{ users: ['alice'], tools: ['*'] }] } })).toContain('servers.team');
  });

  it('is refused by Docker rendering with the reason', () => {
    const config = parseConfig({ ...base({ team: { aggregate: ['a'] } }), deploy: { router: 'builtin' } }, 'test config');
    expect(() => planDeployment(config, '/tmp/project')).toThrow(/aggregate endpoints run in `mcp-gateway serve` only/);
  });
});

describe('mcp-gateway add-server --aggregate', () => {
  it('writes the aggregate, lists it, checks access through its members, and keeps members while it lists them', async () => {
    const project = tempProjectDir();
    try {
      const dir = project.dir;
      const init = await runCli(['init', '--yes', '--dir', dir, '--provider', 'local', '--allowed-users', 'alice', '--public-url', 'http://127.0.0.1:8123']);
      expect(init.code, init.stderr).toBe(0);
      expect((await runCli(['add-server', 'echo', '--dir', dir, '--command', `${process.execPath} ${ECHO_FIXTURE}`])).code).toBe(0);
      const added = await runCli(['add-server', 'team', '--dir', dir, '--aggregate', 'echo', '--json']);
      expect(added.code, added.stderr).toBe(0);
      expect(JSON.parse(added.stdout)).toMatchObject({ server: 'team', aggregate: ['echo'], endpoint: 'http://127.0.0.1:8123/team/mcp' });
      expect(readFileSync(join(dir, 'mcp-gateway.yaml'), 'utf8')).toMatch(/team:\n\s+aggregate:\n\s+- echo/);

      const unknown = await runCli(['add-server', 'more', '--dir', dir, '--aggregate', 'echo,nope']);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('servers.more.aggregate.1: no server named nope');
      const mixed = await runCli(['add-server', 'more', '--dir', dir, '--aggregate', 'echo', '--url', 'https://x.example/mcp']);
      expect(mixed.code).toBe(2);
      expect(mixed.stderr).toContain('--aggregate cannot be combined with --url');

      const listing = JSON.parse((await runCli(['list', '--dir', dir, '--json'])).stdout) as { servers: Array<{ name: string; aggregate?: string[] }> };
      expect(listing.servers.find((server) => server.name === 'team')?.aggregate).toEqual(['echo']);
      const check = await runCli(['access', 'check', '--dir', dir, '--user', 'alice', '--server', 'team', '--tool', 'echo__echo', '--json']);
      expect(check.code, check.stderr).toBe(0);
      expect(JSON.parse(check.stdout)).toMatchObject({ allowed: true, rule: 'servers.echo: no tools.deny and no access list' });
      const bare = await runCli(['access', 'check', '--dir', dir, '--user', 'alice', '--server', 'team', '--tool', 'echo']);
      expect(bare.code).toBe(2);
      expect(bare.stderr).toContain('name the tool as <server>__<tool>');

      const removed = await runCli(['remove-server', 'echo', '--dir', dir]);
      expect(removed.code).toBe(1);
      expect(removed.stderr).toContain('servers.team.aggregate.0: no server named echo');
    } finally {
      project.remove();
    }
  });
});
