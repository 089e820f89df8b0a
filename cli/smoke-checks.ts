import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describeFetchError } from './admin/admin-http-client.js';
import type { GatewayUrls } from '../runtime/auth/gateway-urls.js';
import { packageVersion } from './package-info.js';

export type SmokeCheckName = 'challenge' | 'resource-metadata' | 'authorization-server-metadata' | 'initialize' | 'tools/list' | 'upstream-oauth';

export interface SmokeCheck {
  check: SmokeCheckName;
  ok: boolean;
  /** What was found: the failure, or a short confirmation. */
  detail: string;
}

export interface ServerSmokeReport {
  server: string;
  endpoint: string;
  ok: boolean;
  checks: SmokeCheck[];
  /** How many tools tools/list returned. */
  tools: number | null;
}

export interface SmokeTarget {
  urls: GatewayUrls;
  /** URLs on the issuer's origin are fetched at this origin instead (`--url`); others as they are. */
  reachAt: (url: string) => string;
  timeoutMs: number;
  fetch: typeof fetch;
}

class CheckFailed extends Error {}

/**
 * The checks `mcp-gateway smoke` runs on one server, as a remote MCP client would meet it: the
 * 401 challenge (RFC 6750 §3 / RFC 9728 §5.1), the protected-resource metadata, the
 * authorization-server metadata (RFC 8414), then `initialize` and `tools/list` with a token.
 * Each check compares against what the config says, so a metadata document that points
 * elsewhere fails even if it is reachable.
 */
export async function smokeServer(
  target: SmokeTarget,
  server: string,
  token: string,
  asMetadata: (issuer: string) => Promise<SmokeCheck>,
  { upstreamOAuth = false }: { upstreamOAuth?: boolean } = {},
): Promise<ServerSmokeReport> {
  const { urls } = target;
  const endpoint = urls.resourceFor(server);
  const checks: SmokeCheck[] = [];
  const run = async (check: SmokeCheckName, body: () => Promise<string>): Promise<boolean> => {
    try {
      checks.push({ check, ok: true, detail: await body() });
      return true;
    } catch (err) {
      checks.push({ check, ok: false, detail: err instanceof CheckFailed ? err.message : `${describeFetchError(err)}` });
      return false;
    }
  };

  await run('challenge', () => checkChallenge(target, endpoint, urls.protectedResourceMetadataFor(server)));
  await run('resource-metadata', () => checkResourceMetadata(target, urls.protectedResourceMetadataFor(server), endpoint));
  checks.push(await asMetadata(urls.issuer));

  if (upstreamOAuth) {
    // servers.NAME.oauth: the smoke user has no grant at the upstream (people connect through their
    // MCP client), so a valid gateway token must meet the gateway's own challenge, never the upstream's.
    await run('upstream-oauth', () => checkNotConnected(target, endpoint, token, urls.protectedResourceMetadataFor(server)));
    return { server, endpoint, ok: checks.every((c) => c.ok), checks, tools: null };
  }
  let tools: number | null = null;
  const client = new Client({ name: 'mcp-gateway-smoke', version: packageVersion() });
  const transport = new StreamableHTTPClientTransport(new URL(target.reachAt(endpoint)), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
    fetch: target.fetch,
  });
  const initialized = await run('initialize', async () => {
    await client.connect(transport, { timeout: target.timeoutMs });
    const info = client.getServerVersion();
    return info ? `${info.name} ${info.version}` : 'initialized';
  });
  if (initialized) {
    await run('tools/list', async () => {
      const listed = await client.listTools(undefined, { timeout: target.timeoutMs });
      tools = listed.tools.length;
      return `${tools} tool${tools === 1 ? '' : 's'}`;
    });
    // End the session so its child process stops now rather than at the idle timeout.
    await transport.terminateSession().catch(() => {});
  } else {
    checks.push({ check: 'tools/list', ok: false, detail: 'skipped: initialize failed' });
  }
  await client.close().catch(() => {});
  return { server, endpoint, ok: checks.every((c) => c.ok), checks, tools };
}

/** RFC 8414 metadata of the issuer, checked once per run and shared by every server's report. */
export async function checkAuthorizationServer(target: SmokeTarget, issuer: string): Promise<SmokeCheck> {
  const url = `${issuer}/.well-known/oauth-authorization-server`;
  try {
    const doc = await getJson(target, url);
    if (doc['issuer'] !== issuer) fail(`${url}: issuer is ${JSON.stringify(doc['issuer'])}, not ${issuer}`);
    const methods = doc['code_challenge_methods_supported'];
    if (!Array.isArray(methods) || !methods.includes('S256')) fail(`${url}: code_challenge_methods_supported lacks S256`);
    return { check: 'authorization-server-metadata', ok: true, detail: `issuer ${issuer}, PKCE S256` };
  } catch (err) {
    return { check: 'authorization-server-metadata', ok: false, detail: err instanceof CheckFailed ? err.message : `${url}: ${describeFetchError(err)}` };
  }
}

async function checkChallenge(target: SmokeTarget, endpoint: string, metadataUrl: string): Promise<string> {
  // An MCP client's first request: initialize, without a token.
  const res = await target.fetch(target.reachAt(endpoint), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'mcp-gateway-smoke', version: packageVersion() } },
    }),
    redirect: 'manual',
    signal: AbortSignal.timeout(target.timeoutMs),
  });
  await res.arrayBuffer();
  if (res.status !== 401) fail(`without a token the endpoint answered HTTP ${res.status}, not 401`);
  const challenge = res.headers.get('www-authenticate') ?? '';
  if (!/^Bearer\b/i.test(challenge)) fail(`WWW-Authenticate is ${JSON.stringify(challenge.slice(0, 200))}, not a Bearer challenge`);
  const named = /resource_metadata="([^"]*)"/.exec(challenge)?.[1];
  if (named !== metadataUrl) fail(`the challenge names resource_metadata ${named === undefined ? '(none)' : JSON.stringify(named)}, not ${metadataUrl}`);
  // RFC 6750 §3.1: a request without credentials gets no error code.
  if (/\berror=/.test(challenge)) fail(`the challenge to a request without a token carries an error code: ${challenge.slice(0, 200)}`);
  return `401, resource_metadata ${metadataUrl}`;
}

async function checkResourceMetadata(target: SmokeTarget, metadataUrl: string, endpoint: string): Promise<string> {
  const doc = await getJson(target, metadataUrl);
  if (doc['resource'] !== endpoint) fail(`${metadataUrl}: resource is ${JSON.stringify(doc['resource'])}, not ${endpoint}`);
  const servers = doc['authorization_servers'];
  if (!Array.isArray(servers) || !servers.includes(target.urls.issuer))
    fail(`${metadataUrl}: authorization_servers ${JSON.stringify(servers)} does not name ${target.urls.issuer}`);
  return `resource ${endpoint}`;
}

async function getJson(target: SmokeTarget, url: string): Promise<Record<string, unknown>> {
  let res: Response;
  try {
    res = await target.fetch(target.reachAt(url), {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (err) {
    fail(`${url}: ${describeFetchError(err)}`);
  }
  const text = await res.text();
  if (res.status !== 200) fail(`${url} answered HTTP ${res.status}`);
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  fail(`${url} is not a JSON object`);
}

function fail(message: string): never {
  throw new CheckFailed(message);
}

/** A user without an upstream grant gets 401 with the gateway's challenge (their client then authorizes, upstream trip included). */
async function checkNotConnected(target: SmokeTarget, endpoint: string, token: string, resourceMetadata: string): Promise<string> {
  const res = await target.fetch(target.reachAt(endpoint), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: '{}',
    redirect: 'manual',
    signal: AbortSignal.timeout(target.timeoutMs),
  });
  await res.arrayBuffer();
  const challenge = res.headers.get('www-authenticate') ?? '';
  if (res.status !== 401 || !challenge.includes(`resource_metadata="${resourceMetadata}"`)) {
    throw new CheckFailed(`expected 401 with the gateway's challenge for a user not connected upstream, got HTTP ${res.status} ${challenge.slice(0, 200)}`);
  }
  return "per-user OAuth: a user who has not connected it gets the gateway's challenge (tools are listed once a user connects through their client)";
}
