import type { ServerResponse } from 'node:http';
import { replyRaw } from './json-replies.js';
import type { Acceptable } from './media-types.js';
import { SseStream } from './sse-stream.js';

/**
 * One JSON-RPC message as the whole answer to a POST: on the SSE stream already open for it (then
 * ended), else as JSON when the client takes JSON, else as a stream of that one event.
 */
export function replyMessage(
  res: ServerResponse,
  status: number,
  line: string,
  accept: Acceptable,
  options: { open?: SseStream | undefined; headers?: Readonly<Record<string, string>> } = {},
): void {
  if (options.open !== undefined) {
    options.open.send(line);
    options.open.end();
    return;
  }
  if (accept.json || !accept.sse) {
    replyRaw(res, status, line, options.headers);
    return;
  }
  const sse = new SseStream(res, status, options.headers);
  sse.send(line);
  sse.end();
}
