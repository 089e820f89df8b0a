/**
 * Streamable HTTP, "Security Warning": servers MUST validate the Origin header on incoming
 * connections to prevent DNS rebinding; an Origin present and not allowed gets 403. Requests
 * without Origin (every non-browser client) pass: the check is about web pages, and the token
 * check still applies to everything.
 *
 * Returns whether a request with this Origin header may proceed. `allowed` holds origins
 * (`scheme://host[:port]`); a misconfigured entry throws at construction, not per request.
 */
export function createOriginPolicy(allowed: readonly string[]): (origin: string | undefined) => boolean {
  const origins = new Set(
    allowed.map((entry) => {
      const url = new URL(entry);
      if (url.origin === 'null') throw new TypeError(`allowed origin ${entry} has no origin (use scheme://host[:port])`);
      return url.origin;
    }),
  );
  return (origin) => {
    if (origin === undefined) return true;
    if (origins.has(origin)) return true;
    // Browsers send the serialised origin already; parse only to forgive case and default ports.
    try {
      return origins.has(new URL(origin).origin);
    } catch {
      return false;
    }
  };
}
