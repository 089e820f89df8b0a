import { GatewayError } from '../../errors.js';
import { FetchProblem } from '../clients/cimd/pinned-fetch.js';
import { untrusted } from '../upstream/upstream-http.js';
import { parseAuthorizationServerMetadata } from './authorization-server-metadata.js';
import { type GuardedHttp, isJsonMediaType, mediaTypeOf, shortUrl } from './guarded-http.js';
import { MetadataProblem, SCOPE_TOKEN } from './metadata-problem.js';
import { parseResourceMetadata, type ResourceMetadata } from './resource-metadata.js';
import type { UpstreamAuthorization } from './upstream-authorization.js';
import { checkUpstreamUrl } from './upstream-url.js';
import { authorizationServerMetadataCandidates, type ResourceMetadataCandidate, resourceMetadataCandidates } from './well-known-urls.js';
import { bearerChallenge } from './www-authenticate.js';

export type { UpstreamAuthorization } from './upstream-authorization.js';

export interface UpstreamDiscoveryOptions {
  /** Every request goes through it (SSRF guard, size cap, timeout); its loopback switch also governs which URLs are accepted. */
  http: GuardedHttp;
  /** Accept authorization server endpoints on another origin than the issuer (off: see authorization-server-metadata.ts). */
  allowCrossOriginEndpoints?: boolean;
}

/**
 * What the unauthenticated probe sends: an `initialize`, as a client's first request would be. A
 * server that wants OAuth answers 401 before reading it (MCP 2025-11-25 "Authorization Server
 * Discovery"). POST rather than GET: a GET asks for an SSE stream, which an open server keeps open.
 */
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'mcp-gateway', version: '0' } },
});

type Fetched = { json: unknown } | { absent: string };

/**
 * Finds how to get tokens for the remote MCP server at `endpoint`, exactly as MCP 2025-11-25
 * "Authorization" has a client do it:
 *
 * 1. An unauthenticated POST to the endpoint; a 401's `WWW-Authenticate: Bearer resource_metadata=…`
 *    names the protected resource metadata. When it does, that URL is the only one used.
 * 2. Otherwise `/.well-known/oauth-protected-resource/<endpoint path>`, then
 *    `/.well-known/oauth-protected-resource` (RFC 9728 §3.1), moving on past an answer that is not
 *    a JSON document (404, a redirect, an HTML page) but stopping at one that is and is wrong.
 * 3. The first of `authorization_servers` (RFC 9728 §7.6 leaves the choice to the client), whose
 *    metadata is looked for at the RFC 8414 and OpenID Connect well-known URLs in the spec's order.
 *
 * Throws GatewayError `ERR_UPSTREAM_OAUTH_DISCOVERY` (naming the URL fetched and what was wrong),
 * or `ERR_UPSTREAM_OAUTH_FORBIDDEN_TARGET` for a URL or address the gateway does not connect to.
 */
export async function discoverUpstreamAuthorization(
  endpoint: URL,
  { http, allowCrossOriginEndpoints = false }: UpstreamDiscoveryOptions,
): Promise<UpstreamAuthorization> {
  const allowLoopbackHttp = http.allowLoopbackHttp;
  const context = `OAuth discovery for ${shortUrl(endpoint)}`;
  const resourceHint =
    `Check that ${shortUrl(endpoint)} is the remote server's MCP endpoint and that the server publishes OAuth protected resource metadata ` +
    '(RFC 9728) that names this endpoint as its resource and names its authorization server.';
  const fail = (what: string, hint: string, cause?: unknown): GatewayError =>
    new GatewayError('ERR_UPSTREAM_OAUTH_DISCOVERY', `${context}: ${what}`, { hint, ...(cause === undefined ? {} : { cause }) });

  const endpointCheck = checkUpstreamUrl(endpoint.href, { allowLoopbackHttp });
  if (!endpointCheck.ok)
    throw fail(`the endpoint URL ${endpointCheck.problem}`, 'Give the remote server as an https URL, for example https://remote.example/mcp.');

  /** GET one metadata document. Absent (moved on from) unless it is a JSON document; a transport failure ends discovery. */
  async function fetchMetadata(url: URL, hint: string): Promise<Fetched> {
    let reply: Awaited<ReturnType<GuardedHttp['request']>>;
    try {
      reply = await http.request(url, { headers: { accept: 'application/json' } });
    } catch (err) {
      if (err instanceof FetchProblem) throw fail(`${shortUrl(url)}: ${err.message}`, hint, err);
      throw err;
    }
    const where = shortUrl(url);
    if (reply.status >= 300 && reply.status < 400) {
      const location = reply.headers.location;
      return { absent: `${where} redirected (HTTP ${reply.status}) to ${location === undefined ? '(no Location)' : untrusted(location)}, not followed` };
    }
    if (reply.status !== 200) return { absent: `${where} answered HTTP ${reply.status}` };
    const mediaType = mediaTypeOf(reply.headers);
    if (!isJsonMediaType(mediaType)) return { absent: `${where} answered with ${mediaType === '' ? 'no content type' : untrusted(mediaType)}, not JSON` };
    try {
      return { json: JSON.parse(reply.body.toString('utf8').replace(/^\uFEFF/, '')) };
    } catch {
      throw fail(`${where}: the document is not valid JSON`, hint);
    }
  }

  function parsed<T>(url: URL, parse: () => T, hint: string): T {
    try {
      return parse();
    } catch (err) {
      if (err instanceof MetadataProblem) throw fail(`${shortUrl(url)}: ${err.message}`, err.hint ?? hint, err);
      throw err;
    }
  }

  // 1. The endpoint's own challenge.
  const notes: string[] = [];
  let challenge: ReturnType<typeof bearerChallenge>;
  try {
    const reply = await http.request(endpoint, {
      method: 'POST',
      headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' },
      body: INITIALIZE,
    });
    if (reply.status === 401) challenge = bearerChallenge(reply.headers['www-authenticate']);
    if (challenge?.resourceMetadata === undefined) {
      notes.push(`POST ${shortUrl(endpoint)} answered HTTP ${reply.status}${reply.status === 401 ? ' without a resource_metadata' : ''}`);
    }
  } catch (err) {
    // The endpoint may not answer an unauthenticated POST in time (an open server streaming an
    // answer); the well-known URLs are the fallback the spec gives for exactly this.
    if (!(err instanceof FetchProblem)) throw err;
    notes.push(`POST ${shortUrl(endpoint)}: ${err.message}`);
  }

  // 2. Protected resource metadata.
  let candidates: ResourceMetadataCandidate[];
  if (challenge?.resourceMetadata !== undefined) {
    const check = checkUpstreamUrl(challenge.resourceMetadata, { allowLoopbackHttp });
    if (!check.ok) throw fail(`the WWW-Authenticate resource_metadata of ${shortUrl(endpoint)} ${check.problem}`, resourceHint);
    candidates = [{ url: check.url, source: 'www-authenticate' }];
  } else {
    candidates = resourceMetadataCandidates(endpoint);
  }
  let found: { candidate: ResourceMetadataCandidate; metadata: ResourceMetadata } | undefined;
  for (const candidate of candidates) {
    const fetched = await fetchMetadata(candidate.url, resourceHint);
    if ('absent' in fetched) {
      notes.push(fetched.absent);
      continue;
    }
    found = { candidate, metadata: parsed(candidate.url, () => parseResourceMetadata(fetched.json, endpoint, { allowLoopbackHttp }), resourceHint) };
    break;
  }
  if (found === undefined) throw fail(`no protected resource metadata found (${notes.join('; ')})`, resourceHint);
  const { candidate, metadata } = found;

  // 3. The authorization server's metadata; parseResourceMetadata checked every issuer URL.
  const [issuer] = metadata.authorizationServers;
  const issuerHint =
    `The authorization server ${untrusted(issuer)} must publish OAuth 2.0 authorization server metadata (RFC 8414) or OpenID Connect ` +
    'Discovery metadata for exactly this issuer, with https endpoints on its own origin and PKCE S256.';
  const asNotes: string[] = [];
  for (const url of authorizationServerMetadataCandidates(new URL(issuer))) {
    const fetched = await fetchMetadata(url, issuerHint);
    if ('absent' in fetched) {
      asNotes.push(fetched.absent);
      continue;
    }
    const server = parsed(url, () => parseAuthorizationServerMetadata(fetched.json, issuer, { allowLoopbackHttp, allowCrossOriginEndpoints }), issuerHint);
    return {
      ...server,
      endpoint: endpoint.href,
      resource: metadata.resource,
      resourceMetadataUrl: candidate.url.href,
      resourceMetadataSource: candidate.source,
      authorizationServers: metadata.authorizationServers,
      authorizationServerMetadataUrl: url.href,
      challengedScopes: scopesOf(challenge?.scope),
      resourceScopesSupported: metadata.scopesSupported,
    };
  }
  throw fail(`no authorization server metadata found for ${untrusted(issuer)} (${asNotes.join('; ')})`, issuerHint);
}

/** A challenge's scope, when it is a well-formed list of scope tokens; a malformed one is ignored, not trusted. */
function scopesOf(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const tokens = scope.split(' ').filter((t) => t !== '');
  return tokens.length > 0 && tokens.length <= 100 && tokens.every((t) => SCOPE_TOKEN.test(t)) ? tokens : undefined;
}
