import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { ClientMessage } from './bridge-session.js';
import { toEnvelope, TRANSPORT_ERROR } from './json-rpc.js';
import { replyJsonRpcError } from './json-replies.js';
import { isJsonContentType } from './media-types.js';
import { tooLargeMessage } from './oversized-message.js';
import { readBody } from './read-body.js';
import { MAX_JSON_DEPTH, jsonNestedTooDeep } from '../http/json-depth.js';

export interface PostBody {
  messages: ClientMessage[];
  batch: boolean;
  /** Size of the body as received (characters), for the stdin queue bound. */
  bytes: number;
}

/**
 * Reads a POST body and checks it is JSON-RPC: one message or a batch. Replies with the error
 * itself (415, 413, 400 with -32700 or -32600) and returns undefined when it is not.
 */
export async function readPostBody(req: IncomingMessage, res: ServerResponse, maxMessageBytes: number): Promise<PostBody | undefined> {
  if (!isJsonContentType(req.headers)) {
    replyJsonRpcError(res, 415, TRANSPORT_ERROR, 'Unsupported Media Type: Content-Type must be application/json');
    return undefined;
  }
  const body = await readBody(req, maxMessageBytes);
  if (body.kind === 'aborted') return undefined;
  if (body.kind === 'too-large') {
    replyJsonRpcError(res, 413, TRANSPORT_ERROR, `Payload Too Large: ${tooLargeMessage('the body', maxMessageBytes)}`, {
      data: { maxMessageBytes },
      headers: { Connection: 'close' },
    });
    return undefined;
  }
  // Before JSON.parse: a batch member or a multi-line message is re-serialised below, and
  // JSON.stringify recurses (a RangeError, then a 500, at 100,000 levels); see json-depth.ts.
  if (jsonNestedTooDeep(body.text)) {
    replyJsonRpcError(res, 400, ErrorCode.ParseError, `Parse error: JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.text);
  } catch {
    replyJsonRpcError(res, 400, ErrorCode.ParseError, 'Parse error: Invalid JSON');
    return undefined;
  }
  const batch = Array.isArray(parsed);
  const items: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  if (items.length === 0) {
    replyJsonRpcError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: empty batch');
    return undefined;
  }
  // One line per message on stdin. A single message is relayed as received unless it spans
  // lines; batch members, and anything pretty-printed, are re-serialised onto one line.
  const asReceived = !batch && !/[\r\n]/.test(body.text);
  const messages: ClientMessage[] = [];
  for (const item of items) {
    const envelope = toEnvelope(item);
    if (envelope === undefined) {
      replyJsonRpcError(res, 400, ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC 2.0 message');
      return undefined;
    }
    messages.push({ envelope, line: asReceived ? body.text : JSON.stringify(item) });
  }
  return { messages, batch, bytes: body.text.length };
}
