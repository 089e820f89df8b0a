import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ErrorCode,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsRequestSchema,
  ListToolsRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  PromptListChangedNotificationSchema,
  ReadResourceRequestSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  ToolListChangedNotificationSchema,
  UnsubscribeRequestSchema,
  type ClientCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import { buildChildEnv } from '../bridge/child-env.js';
import { AGGREGATE_SPEC_ENV, parseAggregateSpec, type AggregateMember } from './aggregate-spec.js';
import { memberName, splitMemberName } from './member-names.js';
import { MemberStdioTransport } from './member-stdio-transport.js';

/*
 * The process behind an aggregate endpoint (`servers.NAME.aggregate`): a stdio MCP server to the
 * bridge, an MCP client of each member. The bridge runs it like any stdio server, one process per
 * session, so everything the bridge does (sessions bound to one user, 2026-07-28 translation,
 * limits, the tool gate with each member's rules) applies unchanged, and the gateway's own CPU per
 * call is a direct call's plus one name lookup; the merging and routing cost is spent here.
 * Members are started when the client has initialized (their client capabilities are the
 * client's), a member that fails is left out with a warning on stderr (the gateway logs it) and
 * its calls get an error naming it; the others keep working. Built on the MCP SDK's Server and
 * Client: the protocol details (versions, capabilities, cancellation, progress) are theirs.
 */

const MEMBER_START_TIMEOUT_MS = 60_000;
/** The bridge bounds every request (limits.requestTimeout) and cancels it past that; no second clock here. */
const NO_TIMEOUT_MS = 2 ** 31 - 1;
const MAX_PAGES = 100;

interface Member {
  readonly name: string;
  client: Client | undefined;
  /** Why the member is not usable (failed to start, exited). */
  down: string | undefined;
}

const spec = parseAggregateSpec(process.env[AGGREGATE_SPEC_ENV]);
const members = new Map<string, Member>(spec.members.map((m) => [m.name, { name: m.name, client: undefined, down: undefined }]));
let started: Promise<void> | undefined;

const server = new Server(
  { name: spec.name, version: '1.0.0' },
  {
    capabilities: { tools: { listChanged: true }, prompts: { listChanged: true }, resources: { subscribe: true, listChanged: true }, logging: {} },
    instructions: `One endpoint for the servers ${spec.members.map((m) => m.name).join(', ')}: each one's tools, prompts and resources are named <server>__<name>.`,
  },
);

function warn(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** The capabilities a member may use toward the client: what the client declared. */
function forwardedCapabilities(): ClientCapabilities {
  const declared = server.getClientCapabilities() ?? {};
  const capabilities: ClientCapabilities = {};
  if (declared.sampling !== undefined) capabilities.sampling = declared.sampling;
  if (declared.elicitation !== undefined) capabilities.elicitation = declared.elicitation;
  if (declared.roots !== undefined) capabilities.roots = { listChanged: false };
  return capabilities;
}

function transportFor(member: AggregateMember) {
  if (member.kind === 'remote') return new StreamableHTTPClientTransport(new URL(member.url));
  // The member's own (already confined) launch, with the environment the bridge would give it.
  const parent = { ...process.env };
  delete parent[AGGREGATE_SPEC_ENV];
  return new MemberStdioTransport({
    command: member.launch.command,
    args: member.launch.args,
    env: buildChildEnv(parent, member.launch.env),
    ...(member.launch.cwd === undefined ? {} : { cwd: member.launch.cwd }),
  });
}

async function connect(spec: AggregateMember): Promise<void> {
  const member = members.get(spec.name)!;
  const capabilities = forwardedCapabilities();
  const client = new Client({ name: `mcp-gateway aggregate ${server.getClientVersion()?.name ?? 'client'}`, version: '1.0.0' }, { capabilities });
  // Server-to-client requests of a member go to the client, answered on its behalf.
  if (capabilities.sampling)
    client.setRequestHandler(CreateMessageRequestSchema, (request, extra) => server.createMessage(request.params, { signal: extra.signal }));
  if (capabilities.elicitation) client.setRequestHandler(ElicitRequestSchema, (request, extra) => server.elicitInput(request.params, { signal: extra.signal }));
  if (capabilities.roots) client.setRequestHandler(ListRootsRequestSchema, (request, extra) => server.listRoots(request.params, { signal: extra.signal }));
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => server.sendToolListChanged());
  client.setNotificationHandler(PromptListChangedNotificationSchema, () => server.sendPromptListChanged());
  client.setNotificationHandler(ResourceListChangedNotificationSchema, () => server.sendResourceListChanged());
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) =>
    server.sendResourceUpdated({ ...n.params, uri: memberName(spec.name, n.params.uri) }),
  );
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) =>
    server.sendLoggingMessage({ ...n.params, logger: memberName(spec.name, n.params.logger ?? 'log') }),
  );
  const transport = transportFor(spec);
  if (transport instanceof MemberStdioTransport) {
    transport.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') warn(`[${spec.name}] ${line}`);
    });
  }
  client.onclose = () => {
    if (member.down !== undefined || member.client === undefined) return;
    member.down = 'it exited';
    member.client = undefined;
    warn(`member ${spec.name} exited; its tools, prompts and resources are left out until the session is started again`);
    void server.sendToolListChanged().catch(() => {});
  };
  try {
    await client.connect(transport, { timeout: MEMBER_START_TIMEOUT_MS });
    member.client = client;
  } catch (err) {
    member.down = `it did not start: ${err instanceof Error ? err.message : String(err)}`;
    warn(`member ${spec.name} is left out: ${member.down}`);
    await client.close().catch(() => {});
  }
}

function startMembers(): Promise<void> {
  started ??= Promise.allSettled(spec.members.map(connect)).then(() => undefined);
  return started;
}

async function live(): Promise<Array<{ member: Member; client: Client }>> {
  await startMembers();
  return [...members.values()].flatMap((member) => (member.client === undefined ? [] : [{ member, client: member.client }]));
}

/** The member a prefixed name routes to, up and running; an error the client can act on otherwise. */
async function route(prefixed: string, what: string): Promise<{ member: Member; client: Client; name: string }> {
  const split = splitMemberName(prefixed);
  const member = split === undefined ? undefined : members.get(split.member);
  if (split === undefined || member === undefined)
    throw new McpError(ErrorCode.InvalidParams, `Unknown ${what}: ${prefixed} (names here are <server>__<name>)`);
  await startMembers();
  if (member.client === undefined)
    throw new McpError(ErrorCode.InternalError, `${spec.name}: member server ${member.name} is unavailable (${member.down ?? 'not started'})`);
  return { member, client: member.client, name: split.name };
}

/** Every page of a member's list (the aggregate answers with one page). */
async function allPages<T>(list: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await list(cursor);
    items.push(...answer.items);
    cursor = answer.nextCursor;
    if (cursor === undefined) break;
  }
  return items;
}

/** Each member's list, merged; a member whose list fails is left out of this answer (logged). */
async function merged<T>(capability: 'tools' | 'prompts' | 'resources', list: (client: Client, member: string) => Promise<T[]>): Promise<T[]> {
  const lists = await Promise.all(
    (await live()).map(async ({ member, client }) => {
      if (client.getServerCapabilities()?.[capability] === undefined) return [];
      try {
        return await list(client, member.name);
      } catch (err) {
        warn(`member ${member.name} did not list its ${capability}: ${err instanceof Error ? err.message : String(err)}`);
        return [];
      }
    }),
  );
  return lists.flat();
}

server.oninitialized = () => void startMembers();

server.setRequestHandler(ListToolsRequestSchema, async () => ({
  tools: await merged('tools', (client, member) =>
    allPages(async (cursor) => {
      const answer = await client.listTools(cursor === undefined ? {} : { cursor });
      return { items: answer.tools.map((tool) => ({ ...tool, name: memberName(member, tool.name) })), nextCursor: answer.nextCursor };
    }),
  ),
}));

server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
  const { client, name } = await route(request.params.name, 'tool');
  const progressToken = request.params._meta?.progressToken;
  const { _meta, ...params } = request.params;
  return client.request({ method: 'tools/call', params: { ...params, name } }, CallToolResultSchema, {
    signal: extra.signal,
    timeout: NO_TIMEOUT_MS,
    ...(progressToken === undefined
      ? {}
      : {
          onprogress: (progress) => void extra.sendNotification({ method: 'notifications/progress', params: { ...progress, progressToken } }).catch(() => {}),
        }),
  });
});

server.setRequestHandler(ListPromptsRequestSchema, async () => ({
  prompts: await merged('prompts', (client, member) =>
    allPages(async (cursor) => {
      const answer = await client.listPrompts(cursor === undefined ? {} : { cursor });
      return { items: answer.prompts.map((prompt) => ({ ...prompt, name: memberName(member, prompt.name) })), nextCursor: answer.nextCursor };
    }),
  ),
}));

server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
  const { client, name } = await route(request.params.name, 'prompt');
  return client.getPrompt({ ...request.params, name }, { signal: extra.signal, timeout: NO_TIMEOUT_MS });
});

server.setRequestHandler(ListResourcesRequestSchema, async () => ({
  resources: await merged('resources', (client, member) =>
    allPages(async (cursor) => {
      const answer = await client.listResources(cursor === undefined ? {} : { cursor });
      return { items: answer.resources.map((resource) => ({ ...resource, uri: memberName(member, resource.uri) })), nextCursor: answer.nextCursor };
    }),
  ),
}));

server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
  resourceTemplates: await merged('resources', (client, member) =>
    allPages(async (cursor) => {
      const answer = await client.listResourceTemplates(cursor === undefined ? {} : { cursor });
      return {
        items: answer.resourceTemplates.map((template) => ({ ...template, uriTemplate: memberName(member, template.uriTemplate) })),
        nextCursor: answer.nextCursor,
      };
    }),
  ),
}));

server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
  const { member, client, name } = await route(request.params.uri, 'resource');
  const answer = await client.readResource({ ...request.params, uri: name }, { signal: extra.signal, timeout: NO_TIMEOUT_MS });
  return { ...answer, contents: answer.contents.map((content) => ({ ...content, uri: memberName(member.name, content.uri) })) };
});

server.setRequestHandler(SubscribeRequestSchema, async (request) => {
  const { client, name } = await route(request.params.uri, 'resource');
  return client.subscribeResource({ ...request.params, uri: name });
});

server.setRequestHandler(UnsubscribeRequestSchema, async (request) => {
  const { client, name } = await route(request.params.uri, 'resource');
  return client.unsubscribeResource({ ...request.params, uri: name });
});

server.setRequestHandler(SetLevelRequestSchema, async (request) => {
  await Promise.all(
    (await live())
      .filter(({ client }) => client.getServerCapabilities()?.logging !== undefined)
      .map(({ client }) => client.setLoggingLevel(request.params.level)),
  );
  return {};
});

async function shutdown(): Promise<void> {
  await Promise.allSettled([...members.values()].map((member) => member.client?.close()));
  process.exit(0);
}

const transport = new StdioServerTransport();
transport.onclose = () => void shutdown();
process.stdin.on('end', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
await server.connect(transport);
