import type { ServerResponse } from 'node:http';
import { jsonRpcErrorLine, type RequestId } from './json-rpc.js';

type Headers = Readonly<Record<string, string>>;

export function replyJson(res: ServerResponse, status: number, body: unknown, headers: Headers = {}): void {
  replyRaw(res, status, JSON.stringify(body), headers);
}

/** `json` is already serialised (usually a line relayed from the child as is). */
export function replyRaw(res: ServerResponse, status: number, json: string, headers: Headers = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(json) });
  res.end(json);
}

/**
 * Transport-level failures answer with a JSON-RPC error object and `id: null`, as the SDK's
 * server transport does, so MCP clients can show the message.
 */
export function replyJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  options: { id?: RequestId | null; data?: unknown; headers?: Headers } = {},
): void {
  replyRaw(res, status, jsonRpcErrorLine(options.id ?? null, code, message, options.data), options.headers);
}

export function replyEmpty(res: ServerResponse, status: number, headers: Headers = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, headers);
  res.end();
}
