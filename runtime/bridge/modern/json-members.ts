/**
 * Where the members of a JSON object are in its text, without parsing it: so a line a child
 * sent can be relayed with a few members added or replaced instead of JSON.parse, an object
 * spread and JSON.stringify of all of it (the 2025 session path relays lines as they are; the
 * stateless one must change a little of each). JSON libraries parse to values or stream tokens;
 * none hands back the text spans of an object's members, hence this small scanner.
 *
 * Only for text that JSON.parse has accepted already (every line the bridge reads is parsed
 * before it is handled): it does not validate, it only finds boundaries. It still never reads
 * past the end, and gives up (undefined) on anything it does not expect, such as a key written
 * with an escape (`"_met\u0061"` is `_meta`), so callers fall back to parse-and-serialise.
 */

export interface MemberSpan {
  /** The key as written; keys with escapes are not reported (the scan gives up). */
  key: string;
  /** The value's text is `text.slice(start, end)`. */
  start: number;
  end: number;
}

export interface ObjectSpan {
  members: MemberSpan[];
  /** Index of the object's closing `}`. */
  close: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** The members of the object whose `{` is at `open` (after any whitespace), or undefined. */
export function objectMembers(text: string, open: number): ObjectSpan | undefined {
  let i = skipSpace(text, open);
  if (text.charCodeAt(i) !== OPEN_OBJECT) return undefined;
  i = skipSpace(text, i + 1);
  const members: MemberSpan[] = [];
  if (text.charCodeAt(i) === CLOSE_OBJECT) return { members, close: i };
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) return undefined;
    const keyEnd = text.indexOf('"', i + 1);
    if (keyEnd === -1) return undefined;
    const key = text.slice(i + 1, keyEnd);
    if (key.includes('\\')) return undefined;
    i = skipSpace(text, keyEnd + 1);
    if (text.charCodeAt(i) !== COLON) return undefined;
    const start = skipSpace(text, i + 1);
    const end = valueEnd(text, start);
    if (end === -1) return undefined;
    members.push({ key, start, end });
    i = skipSpace(text, end);
    const next = text.charCodeAt(i);
    if (next === CLOSE_OBJECT) return { members, close: i };
    if (next !== COMMA) return undefined;
    i = skipSpace(text, i + 1);
  }
}

/** The index just past the value that starts at `start`, or -1. */
function valueEnd(text: string, start: number): number {
  const length = text.length;
  const first = text.charCodeAt(start);
  if (first === QUOTE) return stringEnd(text, start);
  if (first === OPEN_OBJECT || first === OPEN_ARRAY) {
    let depth = 0;
    for (let i = start; i < length; i++) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        i = stringEnd(text, i) - 1;
        if (i < 0) return -1;
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) depth++;
      else if ((c === CLOSE_OBJECT || c === CLOSE_ARRAY) && --depth === 0) return i + 1;
    }
    return -1;
  }
  // A number, true, false or null: up to the next delimiter.
  let i = start;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === COMMA || c === CLOSE_OBJECT || c === CLOSE_ARRAY || isSpace(c)) break;
    i++;
  }
  return i === start ? -1 : i;
}

/** The index just past the string whose opening quote is at `open`, or -1. */
function stringEnd(text: string, open: number): number {
  for (let i = open + 1; ; ) {
    const quote = text.indexOf('"', i);
    if (quote === -1) return -1;
    // A quote is escaped when an odd number of backslashes precede it.
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    i = quote + 1;
  }
}

function skipSpace(text: string, i: number): number {
  while (isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** JSON's four whitespace characters (RFC 8259 section 2). */
function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
