import { z } from 'zod';
import { BYTE_SIZE_HINT, formatByteSize, parseByteSize } from './byte-size.js';
import { DURATION_HINT, formatDuration, parseDuration } from './duration.js';

/*
 * The config's typed values. Each is a zod codec: parsing turns the YAML's text into the value the
 * code uses (milliseconds, bytes, a URL), and encoding (configSchema.encode) turns it back into
 * the text a person would write, which is how `render` writes the containers' configs and `init`
 * writes a fresh one. Code past loadConfig never parses these strings again.
 */

/** `90s`, `15m`, `8h`, `30d` in the YAML; milliseconds in the config. */
export const durationMs = z.codec(
  z.string().refine((text) => parseDuration(text) !== undefined, { message: `not a duration: ${DURATION_HINT}` }),
  z.number().int().positive(),
  { decode: (text) => parseDuration(text)!, encode: formatDuration },
);

/** `512m`, `1g` in the YAML; bytes in the config. */
export const byteSize = z.codec(
  z.string().refine((text) => parseByteSize(text) !== undefined, { message: `not a memory size: ${BYTE_SIZE_HINT}` }),
  z.number().int().positive(),
  { decode: (text) => parseByteSize(text)!, encode: formatByteSize },
);

/** An absolute URL whose scheme matches; a `URL` in the config. */
export function urlWithScheme(protocol: RegExp) {
  return z.codec(z.url({ protocol }), z.instanceof(URL), { decode: (text) => new URL(text), encode: urlText });
}

/** A URL as a person writes it: `https://mcp.example.com`, not the WHATWG `https://mcp.example.com/`. */
export function urlText(url: URL): string {
  return url.pathname === '/' && url.search === '' && url.hash === '' ? url.href.slice(0, -1) : url.href;
}
