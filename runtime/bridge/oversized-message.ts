import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { jsonRpcErrorLine, type RequestId } from './json-rpc.js';

/**
 * A message longer than `maxMessageBytes`, as the gateway saw it: never held whole, only its
 * first and last bytes (to tell which request it answers) and its size.
 */
export interface OversizedMessage {
  head: Buffer;
  tail: Buffer;
  bytes: number;
}

/**
 * The one limit on a message in either direction (a client's POST body, a child's stdout line, a
 * remote server's JSON body or SSE event); `servers.NAME.limits.maxMessageBytes` overrides it.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** How much of each end is kept: an id and a method name fit many times over. */
export const MESSAGE_END_BYTES = 1024;

/**
 * Collects the ends of a message that is being thrown away as it streams past. Both ends are
 * copies, so no pipe or socket chunk (64 KiB each) stays alive because a slice of it is kept.
 */
export class MessageEnds {
  readonly #keep: number;
  #head: Buffer = Buffer.alloc(0);
  #tail: Buffer = Buffer.alloc(0);
  #bytes = 0;

  constructor(keep = MESSAGE_END_BYTES) {
    this.#keep = keep;
  }

  get bytes(): number {
    return this.#bytes;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#bytes += chunk.length;
    if (this.#head.length < this.#keep) this.#head = Buffer.concat([this.#head, chunk.subarray(0, this.#keep - this.#head.length)]);
    this.#tail =
      chunk.length >= this.#keep
        ? Buffer.from(chunk.subarray(chunk.length - this.#keep))
        : Buffer.from(Buffer.concat([this.#tail, chunk]).subarray(-this.#keep));
  }

  finish(): OversizedMessage {
    return { head: this.#head, tail: this.#tail, bytes: this.#bytes };
  }
}

// A JSON-RPC id: a number, or a string of reasonable length (the bound keeps the regex linear).
const ID = String.raw`(-?\d{1,20}(?:\.\d{1,20})?(?:[eE][+-]?\d{1,4})?|"(?:[^"\\]|\\.){0,256}")`;
/** `id` as the first member, or right after `"jsonrpc":"2.0"`: the Python SDK and most hand-written servers. */
const ID_IN_HEAD = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*${ID}\s*[,}]`);
/**
 * `id` as the last member: the TypeScript SDK writes `{result, jsonrpc, id}`. Anchored on the one
 * closing brace at the end, which in valid JSON closes the top-level object, so an `id` nested
 * inside the result cannot match.
 */
const ID_IN_TAIL = new RegExp(String.raw`[,{]\s*"id"\s*:\s*${ID}\s*\}\s*$`);
/** `method` among the members before anything nested: a request or notification, not a response. */
const METHOD_IN_HEAD = /^\s*\{[^{}[\]]*?"method"\s*:/;

/**
 * What the ends of a message say about it: the id it carries and whether it is a request or
 * notification (it has a `method`). A batch (a JSON array) says nothing reliable and gets no id.
 */
export function describeByEnds(message: Pick<OversizedMessage, 'head' | 'tail'>): { id: RequestId | undefined; hasMethod: boolean } {
  const head = message.head.toString('utf8');
  const tail = message.tail.toString('utf8');
  const hasMethod = METHOD_IN_HEAD.test(head);
  if (/^\s*\[/.test(head)) return { id: undefined, hasMethod };
  const found = ID_IN_HEAD.exec(head)?.[1] ?? ID_IN_TAIL.exec(tail)?.[1];
  if (found === undefined) return { id: undefined, hasMethod };
  try {
    const id: unknown = JSON.parse(found);
    return { id: typeof id === 'string' || typeof id === 'number' ? id : undefined, hasMethod };
  } catch {
    return { id: undefined, hasMethod };
  }
}

/** The text every side of the gateway answers an oversized message with, naming the setting. */
export function tooLargeMessage(what: string, limit: number): string {
  return `${what} exceeded maxMessageBytes (${limit} bytes)`;
}

/**
 * The JSON-RPC error that takes an oversized message's place. -32603 (internal error) because
 * clients already treat it as "the server side failed this request"; `data.maxMessageBytes` is
 * for a program that wants to tell this failure from others.
 */
export function tooLargeErrorLine(id: RequestId | null, what: string, limit: number): string {
  return jsonRpcErrorLine(id, ErrorCode.InternalError, tooLargeMessage(what, limit), { maxMessageBytes: limit });
}
