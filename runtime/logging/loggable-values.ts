/** Config values nest a few levels (server -> limits); deeper objects are left as they are. */
const MAX_DEPTH = 6;

/**
 * URLs as their text. pino's redaction (@pinojs/redact) copies the objects its wildcard paths
 * walk, and a copied URL has lost its internal slots: JSON.stringify then throws and pino logs
 * the whole value as "[unable to serialize, circular reference is too complex to analyze]"
 * (publicUrl in gateway_listening did). Returns `value` itself when it holds no URL.
 */
export function urlsAsText(value: unknown, depth = 0): unknown {
  if (value instanceof URL) return value.href;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => urlsAsText(item, depth + 1));
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  // Errors, Buffers, Maps...: their serializers (or JSON.stringify) know them; only plain records are walked.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const text = urlsAsText(item, depth + 1);
    if (text !== item) {
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = text;
    }
  }
  return copy ?? value;
}
