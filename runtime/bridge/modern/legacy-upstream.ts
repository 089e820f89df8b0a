import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { isJsonObject, TRANSPORT_ERROR } from '../json-rpc.js';
import { replyJsonRpcError, replyRaw } from '../json-replies.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '../protocol-versions.js';
import { HEADER_MISMATCH, MISSING_REQUIRED_CLIENT_CAPABILITY, UNSUPPORTED_PROTOCOL_VERSION } from './modern-protocol.js';

/** The errors by which a server shows it speaks 2026-07-28 (streamable-http.mdx "Backward Compatibility"). */
const MODERN_ERRORS = new Set([HEADER_MISMATCH, MISSING_REQUIRED_CLIENT_CAPABILITY, UNSUPPORTED_PROTOCOL_VERSION]);
const MAX_ERROR_BYTES = 64 * 1024;

/**
 * A remote server's 400, 404 or 405 to a 2026-07-28 request passed through to it (it answered
 * the era probe as a 2026-07-28 server). A modern error (the request was wrong, or names a
 * method it does not serve: 404 with -32601) goes to the client as is, with its status.
 * Anything else is what a 2025 server answers a POST without a session: the server changed (a
 * new version deployed behind the same URL), so the proxy forgets its era (`onLegacy`) and asks
 * again with the next request; this one gets a 400 saying so, in a legacy code, which a client in
 * automatic negotiation takes for a 2025 server.
 */
export function refuseLegacyUpstream(answer: IncomingMessage, res: ServerResponse, serverName: string, status: number, onLegacy: () => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  answer.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes <= MAX_ERROR_BYTES) chunks.push(chunk);
  });
  answer.on('error', () => res.destroy());
  answer.on('end', () => {
    const text = bytes <= MAX_ERROR_BYTES ? Buffer.concat(chunks).toString('utf8') : '';
    if (isModernError(text, status)) {
      replyRaw(res, status, text);
      return;
    }
    onLegacy();
    replyJsonRpcError(
      res,
      400,
      TRANSPORT_ERROR,
      `Bad Request: the remote MCP server "${serverName}" refused a 2026-07-28 request as a ${SUPPORTED_PROTOCOL_VERSIONS.join('/')} server does (HTTP ${status}); send it again (the gateway checks which revision the server speaks now)`,
      { data: { supported: [...SUPPORTED_PROTOCOL_VERSIONS] } },
    );
  });
}

function isModernError(text: string, status: number): boolean {
  try {
    const message = JSON.parse(text) as unknown;
    if (!isJsonObject(message) || !isJsonObject(message['error'])) return false;
    const code = message['error']['code'] as number;
    return MODERN_ERRORS.has(code) || (status === 404 && code === ErrorCode.MethodNotFound);
  } catch {
    return false;
  }
}
