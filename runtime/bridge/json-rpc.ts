import type { RequestId } from '@modelcontextprotocol/sdk/types.js';

export type { RequestId };

/**
 * A JSON-RPC message after a shape check: enough to route it, nothing more. The bridge relays
 * messages between two MCP peers that validate them themselves, so running the SDK's zod
 * schemas on every message would only add cost on the hot path.
 */
export type Envelope =
  | { kind: 'request'; id: RequestId; method: string; value: JsonObject }
  | { kind: 'notification'; method: string; value: JsonObject }
  | { kind: 'response'; id: RequestId | null; value: JsonObject };

export type JsonObject = Record<string, unknown>;

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || typeof value === 'number';
}

export function toEnvelope(value: unknown): Envelope | undefined {
  if (!isJsonObject(value) || value['jsonrpc'] !== '2.0') return undefined;
  const { method, id } = value;
  if (typeof method === 'string') {
    if (id === undefined) return { kind: 'notification', method, value };
    return isRequestId(id) ? { kind: 'request', id, method, value } : undefined;
  }
  if (!('result' in value) && !('error' in value)) return undefined;
  if (id === null || isRequestId(id)) return { kind: 'response', id, value };
  return undefined;
}

/** `params._meta.progressToken` of a client request: progress notifications carry it back. */
export function progressTokenOfRequest(value: JsonObject): RequestId | undefined {
  const params = value['params'];
  if (!isJsonObject(params)) return undefined;
  const meta = params['_meta'];
  if (!isJsonObject(meta)) return undefined;
  const token = meta['progressToken'];
  return isRequestId(token) ? token : undefined;
}

/** `params.progressToken` of a `notifications/progress` sent by the server. */
export function progressTokenOfNotification(value: JsonObject): RequestId | undefined {
  const params = value['params'];
  if (!isJsonObject(params)) return undefined;
  const token = params['progressToken'];
  return isRequestId(token) ? token : undefined;
}

/** The protocol version an initialize result names, if it is a successful one. */
export function negotiatedVersionOf(response: JsonObject): string | undefined {
  const result = response['result'];
  if (!isJsonObject(result)) return undefined;
  const version = result['protocolVersion'];
  return typeof version === 'string' ? version : undefined;
}

export function jsonRpcErrorLine(id: RequestId | null, code: number, message: string, data?: unknown): string {
  const error = data === undefined ? { code, message } : { code, message, data };
  return JSON.stringify({ jsonrpc: '2.0', id, error });
}

/**
 * Codes the SDK's Streamable HTTP server transport answers HTTP-level errors with (-32000 for
 * a bad request, -32001 for an unknown session). Clients built on the SDK see the same shapes
 * from us as from any SDK server.
 */
export const TRANSPORT_ERROR = -32000;
export const SESSION_NOT_FOUND = -32001;

/** JSON with object keys sorted: equal values give equal text (for keys and digests). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
