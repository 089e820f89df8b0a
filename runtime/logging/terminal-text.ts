/**
 * C0 and C1 controls (ESC starts an escape sequence, 0x9B is CSI on its own) and format
 * characters (bidi overrides, zero-width): text from strangers (client names, request paths,
 * upstream errors) must not move the cursor, recolour or retitle the operator's terminal.
 */
const UNSAFE = /[\p{Cc}\p{Cf}]/gu;
/** A line break in a value could forge a log line of its own; JSON escapes it, a terminal would not. */
const LINE_BREAKS = /[\t\n\r\v\f\u2028\u2029]+/g;
/** Keys whose line breaks are our own layout (stack traces, printed indented by the formatter). */
const MULTILINE_KEYS = new Set(['stack']);
/** Parsed JSON has no cycles; the bound is for a pathological line, not for correctness. */
const MAX_DEPTH = 32;

/** One line of `text` that is safe to write to a terminal. */
export function terminalSafe(text: string): string {
  return text.replace(LINE_BREAKS, ' ').replace(UNSAFE, '?');
}

/** `terminalSafe` applied to every string in a parsed JSON value (keys included). */
export function terminalSafeValues(value: unknown, key = '', depth = 0): unknown {
  if (typeof value === 'string') {
    return MULTILINE_KEYS.has(key) ? value.split('\n').map(terminalSafe).join('\n') : terminalSafe(value);
  }
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item) => terminalSafeValues(item, key, depth + 1));
  const safe: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) safe[terminalSafe(name)] = terminalSafeValues(item, name, depth + 1);
  return safe;
}
