/**
 * How deeply JSON bodies from the network may nest. V8's JSON.parse is iterative and copes
 * with any depth, but everything after it recurses: JSON.stringify (batch members are
 * re-serialised onto one stdin line), zod, pino, and the MCP server's own parser behind the
 * bridge. 100,000 levels fit in 200 KB, well inside the body limits, and JSON.stringify throws
 * a RangeError on them. 128 is serde_json's default recursion limit (what Rust MCP servers parse
 * with), so nothing deeper could reach such a server anyway; real MCP and OAuth messages stay
 * under 20.
 */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Counts `[`/`{` nesting outside strings, chunk by chunk, without parsing and without recursion
 * (one loop, two flags and a counter), so a body can be refused before it is parsed or while it
 * streams to an upstream. It checks depth only, not validity: malformed JSON is the parser's (or
 * the upstream's) to refuse. Bytes and UTF-16 code units work alike because every character it
 * looks at is ASCII, and in UTF-8 no byte of a multi-byte character is below 0x80.
 */
export class JsonDepthGauge {
  #depth = 0;
  #inString = false;
  #escaped = false;
  #exceeded = false;

  constructor(readonly maxDepth: number = MAX_JSON_DEPTH) {}

  get exceeded(): boolean {
    return this.#exceeded;
  }

  /** Feeds the next chunk; resolves true once the nesting went past `maxDepth` (and stays true). */
  push(chunk: Uint8Array | string): boolean {
    if (this.#exceeded) return true;
    const text = typeof chunk === 'string';
    const length = chunk.length;
    for (let i = 0; i < length; i++) {
      const c = text ? (chunk as string).charCodeAt(i) : (chunk as Uint8Array)[i]!;
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === BACKSLASH) this.#escaped = true;
        else if (c === QUOTE) this.#inString = false;
      } else if (c === QUOTE) {
        this.#inString = true;
      } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
        if (++this.#depth > this.maxDepth) {
          this.#exceeded = true;
          return true;
        }
      } else if ((c === CLOSE_ARRAY || c === CLOSE_OBJECT) && this.#depth > 0) {
        this.#depth--;
      }
    }
    return false;
  }
}

/** Whether a whole JSON text nests deeper than `maxDepth`. */
export function jsonNestedTooDeep(text: Uint8Array | string, maxDepth: number = MAX_JSON_DEPTH): boolean {
  return new JsonDepthGauge(maxDepth).push(text);
}

/**
 * For express.json's `verify` hook, which sees the raw body before JSON.parse: too deep is a
 * 400 (the auth app's error handler turns it into RFC 6749 `invalid_request`). Only UTF-8 is
 * scanned as bytes, so other charsets are refused (RFC 8259 §8.1: JSON between systems MUST
 * be UTF-8); a UTF-16 code unit can contain the byte of a bracket.
 */
export function refuseDeepJson(_req: unknown, _res: unknown, body: Buffer, encoding: string): void {
  if (encoding.toLowerCase().replace('-', '') !== 'utf8') throw Object.assign(new Error('JSON must be UTF-8'), { status: 415, type: 'charset.unsupported' });
  if (jsonNestedTooDeep(body)) throw Object.assign(new Error(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`), { status: 400, type: 'entity.too.deep' });
}
