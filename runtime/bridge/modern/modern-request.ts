import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { isJsonObject, type Envelope, type JsonObject, type RequestId } from '../json-rpc.js';
import { replyJsonRpcError } from '../json-replies.js';
import type { PostBody } from '../post-body.js';
import { singleHeader } from '../request-headers.js';
import {
  HEADER_MISMATCH,
  isModernVersion,
  META,
  MODERN_CLIENT_METHODS,
  MODERN_PROTOCOL_VERSIONS,
  nameParamOf,
  UNSUPPORTED_PROTOCOL_VERSION,
} from './modern-protocol.js';

/** A 2026-07-28 request that passed every check the spec asks of a server before routing. */
export interface ModernRequest {
  id: RequestId;
  method: string;
  /** `params` as sent (an object; `{}` when absent is refused, since `_meta` is required). */
  params: JsonObject;
  protocolVersion: string;
  clientCapabilities: JsonObject;
  clientInfo: JsonObject | undefined;
}

export interface ModernRefusal {
  status: number;
  code: number;
  message: string;
  data?: JsonObject;
}

export type ModernCheck = { ok: true; request: ModernRequest } | { ok: true; notification: true } | { ok: false; refusal: ModernRefusal };

/**
 * Bounds on what a client declares about itself. Capabilities pick the child a request runs on
 * (they are part of its initialize), so they must not be a way to make the gateway hold or hash
 * megabytes per request.
 */
const MAX_CAPABILITIES_CHARS = 16 * 1024;
const MAX_CLIENT_INFO_CHARS = 4 * 1024;

/** `=?base64?...?=`: the encoding of header values that are not plain ASCII (streamable-http.mdx "Value Encoding"). */
const BASE64_SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;
/** Printable ASCII without leading or trailing space: what may go in a header unencoded. */
const PLAIN_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** Whether a POST is for the stateless revision: its version header or its `_meta` says so. */
export function looksModern(req: IncomingMessage, envelope: Envelope | undefined): boolean {
  const header = singleHeader(req, 'mcp-protocol-version');
  if (header !== undefined && isModernVersion(header)) return true;
  if (envelope === undefined || envelope.kind === 'response') return false;
  const params = envelope.value['params'];
  const meta = isJsonObject(params) ? params['_meta'] : undefined;
  return isJsonObject(meta) && typeof meta[META.protocolVersion] === 'string';
}

/** The one message of a 2026-07-28 POST; a batch gets 400 (the revision has none). */
export function singleModernMessage(post: PostBody, res: ServerResponse): Envelope | undefined {
  const [only] = post.messages;
  if (!post.batch && post.messages.length === 1 && only !== undefined) return only.envelope;
  replyJsonRpcError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: 2026-07-28 takes one JSON-RPC message per POST, no batches');
  return undefined;
}

/**
 * The checks of streamable-http.mdx ("Server Validation", "Protocol Version Header") and
 * basic/index.mdx ("_meta"), in the order a client can act on: the version (a header that does
 * not match it, then one the gateway does not serve, so a client of another revision learns
 * which ones are), then the other headers against the body, then the method.
 */
export function checkModernRequest(req: IncomingMessage, envelope: Envelope): ModernCheck {
  if (envelope.kind === 'response') return refuse(400, ErrorCode.InvalidRequest, 'Invalid Request: a client must not send JSON-RPC responses in 2026-07-28');
  const params = envelope.value['params'];
  const meta = isJsonObject(params) ? params['_meta'] : undefined;
  const version = isJsonObject(meta) ? meta[META.protocolVersion] : undefined;
  if (!isJsonObject(params) || !isJsonObject(meta) || typeof version !== 'string') {
    return refuse(400, ErrorCode.InvalidParams, `Invalid params: _meta["${META.protocolVersion}"] is required in 2026-07-28`);
  }
  // A header that differs from the body is a mismatch whatever either names (streamable-http.mdx
  // "Server Validation"); only a version both agree on can be an unsupported one.
  const header = singleHeader(req, 'mcp-protocol-version');
  if (header !== version) {
    return mismatch(
      header === undefined
        ? 'MCP-Protocol-Version header is required'
        : `MCP-Protocol-Version header '${clip(header)}' does not match the body's '${clip(version)}'`,
    );
  }
  if (!isModernVersion(version)) {
    return refuse(400, UNSUPPORTED_PROTOCOL_VERSION, 'Unsupported protocol version', {
      supported: [...MODERN_PROTOCOL_VERSIONS],
      requested: version.slice(0, 64),
    });
  }
  if (envelope.kind === 'notification') return { ok: true, notification: true };

  const method = singleHeader(req, 'mcp-method');
  if (method !== envelope.method) {
    return mismatch(
      method === undefined ? 'Mcp-Method header is required' : `Mcp-Method header value '${clip(method)}' does not match body value '${clip(envelope.method)}'`,
    );
  }
  const nameParam = nameParamOf(envelope.method);
  if (nameParam !== undefined) {
    const bodyValue = params[nameParam];
    if (typeof bodyValue !== 'string') return refuse(400, ErrorCode.InvalidParams, `Invalid params: params.${nameParam} must be a string`);
    const raw = singleHeader(req, 'mcp-name');
    if (raw === undefined) return mismatch(`Mcp-Name header is required for ${envelope.method}`);
    const decoded = decodeHeaderValue(raw);
    if (decoded === undefined) return mismatch('Mcp-Name header value is neither plain ASCII nor =?base64?...?= encoded');
    if (decoded !== bodyValue) return mismatch(`Mcp-Name header value '${clip(decoded)}' does not match body value '${clip(bodyValue)}'`);
  }

  const capabilities = meta[META.clientCapabilities];
  if (!isJsonObject(capabilities))
    return refuse(400, ErrorCode.InvalidParams, `Invalid params: _meta["${META.clientCapabilities}"] is required (an object; {} for none)`);
  if (JSON.stringify(capabilities).length > MAX_CAPABILITIES_CHARS)
    return refuse(400, ErrorCode.InvalidParams, `Invalid params: client capabilities over ${MAX_CAPABILITIES_CHARS} characters`);
  const info = meta[META.clientInfo];
  if (info !== undefined && (!isJsonObject(info) || JSON.stringify(info).length > MAX_CLIENT_INFO_CHARS)) {
    return refuse(400, ErrorCode.InvalidParams, `Invalid params: _meta["${META.clientInfo}"] must be an object of at most ${MAX_CLIENT_INFO_CHARS} characters`);
  }
  if (!MODERN_CLIENT_METHODS.has(envelope.method)) return refuse(404, ErrorCode.MethodNotFound, `Method not found: ${clip(envelope.method)}`);
  return {
    ok: true,
    request: { id: envelope.id, method: envelope.method, params, protocolVersion: version, clientCapabilities: capabilities, clientInfo: info },
  };
}

/** A header value as the client meant it: plain ASCII as is, the base64 form decoded; undefined when it is neither. */
export function decodeHeaderValue(raw: string): string | undefined {
  const encoded = BASE64_SENTINEL.exec(raw);
  if (encoded) {
    const bytes = Buffer.from(encoded[1]!, 'base64');
    // Buffer.from ignores what is not base64; a round trip tells a real encoding from junk.
    if (bytes.toString('base64').replace(/=+$/, '') !== encoded[1]!.replace(/=+$/, '')) return undefined;
    const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
    return text.includes('\uFFFD') ? undefined : text;
  }
  return PLAIN_VALUE.test(raw) ? raw : undefined;
}

function mismatch(message: string): ModernCheck {
  return refuse(400, HEADER_MISMATCH, `Header mismatch: ${message}`);
}

function refuse(status: number, code: number, message: string, data?: JsonObject): ModernCheck {
  return { ok: false, refusal: { status, code, message, ...(data === undefined ? {} : { data }) } };
}

/** Client-supplied text quoted in an error: short, and free of what would break a log line. */
function clip(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 80 ? `${clean.slice(0, 80)}...` : clean;
}
