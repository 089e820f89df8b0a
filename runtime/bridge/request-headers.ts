import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRANSPORT_ERROR } from './json-rpc.js';
import { acceptable, type Acceptable } from './media-types.js';
import { replyJsonRpcError } from './json-replies.js';
import { isAcceptedProtocolHeader, SUPPORTED_PROTOCOL_VERSIONS } from './protocol-versions.js';

/** A header sent once; a repeated header (an array) counts as absent. */
export function singleHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/**
 * MCP-Protocol-Version: a version we do not speak gets 400 naming the ones we do. -32000 and the
 * SDK's wording, not 2026-07-28's UnsupportedProtocolVersion (-32022): that code tells a client
 * the server speaks the new revision, and it would not fall back to initialize.
 */
export function refusedVersion(req: IncomingMessage, res: ServerResponse, negotiated: string | undefined): boolean {
  const version = singleHeader(req, 'mcp-protocol-version');
  if (version === undefined || isAcceptedProtocolHeader(version, negotiated)) return false;
  const supported = [...SUPPORTED_PROTOCOL_VERSIONS];
  replyJsonRpcError(res, 400, TRANSPORT_ERROR, `Bad Request: Unsupported protocol version: ${version} (supported versions: ${supported.join(', ')})`, {
    data: { supported, requested: version },
  });
  return true;
}

/** What the client's Accept takes of our two response types; neither gets 406. */
export function acceptedOrRefused(req: IncomingMessage, res: ServerResponse): Acceptable | undefined {
  const accept = acceptable(req.headers.accept);
  if (accept.json || accept.sse) return accept;
  replyJsonRpcError(res, 406, TRANSPORT_ERROR, 'Not Acceptable: Client must accept application/json or text/event-stream');
  return undefined;
}
