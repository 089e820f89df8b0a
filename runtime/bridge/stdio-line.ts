/**
 * A JSON-RPC message as one line for a stdio MCP server. JSON allows U+2028 (LINE SEPARATOR) and
 * U+2029 (PARAGRAPH SEPARATOR) raw inside strings, and `JSON.stringify` leaves them raw, but some
 * line readers end a line there: Node 24's `readline` does, Node 20's does not. A tool name or
 * argument carrying one would reach such a server as two lines, and the second, a whole request
 * of the client's making, would run without the gateway having screened it (a denied tool called
 * after an allowed one). Written as the escapes `\u2028` and `\u2029` (RFC 8259 §7), the message
 * means exactly the same and holds no character any reader could take for the end of a line.
 *
 * `json` is a serialised JSON text, so both characters can only stand inside its strings.
 */
export function stdioLine(json: string): string {
  if (!json.includes('\u2028') && !json.includes('\u2029')) return json;
  return json.replace(/[\u2028\u2029]/g, (c) => (c === '\u2028' ? '\\u2028' : '\\u2029'));
}
