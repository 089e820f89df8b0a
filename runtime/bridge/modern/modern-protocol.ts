/**
 * MCP 2026-07-28 ("modern": stateless, no initialize) as the spec's own text names it:
 * basic/index.mdx (the `_meta` keys and error codes), basic/transports/streamable-http.mdx (the
 * headers), basic/patterns/mrtr.mdx (input_required) and basic/patterns/subscriptions.mdx.
 */

/** Revisions served statelessly. Revision names are ISO dates, so string order is release order. */
export const MODERN_PROTOCOL_VERSIONS = ['2026-07-28'] as const;

export const FIRST_MODERN_VERSION = MODERN_PROTOCOL_VERSIONS[0];

export function isModernVersion(version: string): boolean {
  return (MODERN_PROTOCOL_VERSIONS as readonly string[]).includes(version);
}

/** Reserved `_meta` keys of requests and results. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** JSON-RPC error codes 2026-07-28 defines (basic/index.mdx "Error Codes"). */
export const HEADER_MISMATCH = -32020;
export const MISSING_REQUIRED_CLIENT_CAPABILITY = -32021;
export const UNSUPPORTED_PROTOCOL_VERSION = -32022;

/** The requests a 2026-07-28 client may send (schema.ts `ClientRequest`). */
export const MODERN_CLIENT_METHODS = new Set([
  'server/discover',
  'completion/complete',
  'prompts/get',
  'prompts/list',
  'resources/list',
  'resources/templates/list',
  'resources/read',
  'subscriptions/listen',
  'tools/call',
  'tools/list',
]);

/** The only requests that may answer `input_required` (mrtr.mdx "Supported Requests"). */
export const INPUT_REQUIRED_METHODS = new Set(['tools/call', 'resources/read', 'prompts/get']);

/** Server-to-client requests of 2025 that 2026-07-28 carries as input requests instead. */
export const INPUT_REQUEST_METHODS = new Set(['sampling/createMessage', 'elicitation/create', 'roots/list']);

/** A constant, not an array literal per call: declaresInput runs twice on every stateless call. */
const INPUT_CAPABILITIES = ['sampling', 'elicitation', 'roots'] as const;

/**
 * Whether a client can be asked for input at all: it declared sampling, elicitation or roots.
 * A call of a client that declared none needs no child of its own (see ModernChild).
 */
export function declaresInput(capabilities: Readonly<Record<string, unknown>>): boolean {
  for (const name of INPUT_CAPABILITIES) if (typeof capabilities[name] === 'object' && capabilities[name] !== null) return true;
  return false;
}

/** Complete results that must say how long they may be cached (server/utilities/caching.mdx). */
export const CACHEABLE_METHODS = new Set(['server/discover', 'tools/list', 'prompts/list', 'resources/list', 'resources/templates/list', 'resources/read']);

/** The request's `Mcp-Name` header: which param it mirrors, for the methods that need one. */
export function nameParamOf(method: string): 'name' | 'uri' | undefined {
  if (method === 'tools/call' || method === 'prompts/get') return 'name';
  if (method === 'resources/read') return 'uri';
  return undefined;
}
