/**
 * Which registered redirect URI an authorization request's `redirect_uri` names.
 *
 * Exact string comparison, no normalisation (OAuth 2.1 §2.3.1, RFC 6749 §3.1.2.3: normalising
 * `%5F`, `..`, case or a default port is how open redirects slip through), with the one exception
 * RFC 8252 §7.3 requires: a loopback redirect URI matches with any port, because a native app
 * listens on whatever port the OS gives it at that moment and cannot register it in advance
 * (static Client ID Metadata Documents and clients that register once rely on this).
 *
 * Loopback here is `http` on `127.0.0.1`, `[::1]` and `localhost`. RFC 8252 §8.3 tells clients
 * not to use `localhost` (the name might resolve elsewhere, or a firewall treat it differently),
 * but many do (Claude Code: `http://localhost:<port>/callback`, MCP Inspector), and the port
 * freedom adds no risk the name does not already carry: the registered URI already trusts
 * whatever `localhost` resolves to on the user's machine, and only the port, never the host,
 * is free. Scheme, host, path and query must still be the registered strings exactly.
 */
const LOOPBACK = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?(?=[/?]|$)(.*)$/s;

interface LoopbackParts {
  host: string;
  rest: string;
}

function loopbackParts(uri: string): LoopbackParts | undefined {
  const m = LOOPBACK.exec(uri);
  if (!m) return undefined;
  const port = m[2];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return undefined;
  return { host: m[1]!, rest: m[3]! };
}

function matches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  const a = loopbackParts(registered);
  if (a === undefined) return false;
  const b = loopbackParts(requested);
  return b !== undefined && a.host === b.host && a.rest === b.rest;
}

/** True when `requested` is one of the client's registered redirect URIs (exactly, or a loopback one on another port). */
export function isRegisteredRedirect(registered: readonly string[], requested: string): boolean {
  return registered.some((uri) => matches(uri, requested));
}
