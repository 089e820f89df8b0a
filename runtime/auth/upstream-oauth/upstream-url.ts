import { isLoopbackHost } from '../../config/loopback-host.js';

/**
 * Which URLs a remote MCP server's metadata may send the gateway (or the gateway's users) to.
 * Every URL in protected resource metadata and authorization server metadata is chosen by the
 * remote side; before the gateway fetches one, posts a client registration to one, or redirects
 * a user's browser to one, it must be a plain https URL:
 *
 * - https only (OAuth 2.1 §1.5; MCP 2025-11-25 "Communication Security": every authorization
 *   server endpoint MUST be served over HTTPS). `javascript:`, `data:`, `file:` and any other
 *   scheme are refused, so is plain http except to a loopback host when the caller allows it
 *   (tests and local development).
 * - no user name or password: `https://login.example@evil.example/` reads as login.example to a
 *   person and goes to evil.example.
 * - no fragment (RFC 6749 §3.1 and §3.2 for endpoints, RFC 8414 §2 for an issuer).
 * - no whitespace, control characters or backslashes: the WHATWG parser silently drops or
 *   rewrites them (`java\nscript:` parses as `javascript:`, `\` as `/`), so the string a person
 *   reads would not be the URL that is used.
 * - an issuer has no query either (RFC 8414 §2); endpoints may (RFC 6749 §3.1).
 */

export interface UpstreamUrlRules {
  /** Accept `http://` on a loopback host (localhost, 127.0.0.0/8, ::1). Tests and local development only. */
  allowLoopbackHttp: boolean;
  /** An issuer identifier: a query is refused too (RFC 8414 §2). */
  issuer?: boolean;
}

export type UpstreamUrlCheck = { ok: true; url: URL } | { ok: false; problem: string };

/** Longer than any real endpoint; a limit keeps quoted values in messages and the store small. */
export const MAX_UPSTREAM_URL_CHARS = 2048;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const UNSAFE_CHARACTERS = /[\x00-\x20\x7f\\]/;
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

export function checkUpstreamUrl(raw: unknown, { allowLoopbackHttp, issuer = false }: UpstreamUrlRules): UpstreamUrlCheck {
  const no = (problem: string): UpstreamUrlCheck => ({ ok: false, problem });
  if (typeof raw !== 'string') return no('is not a string');
  if (raw.length === 0) return no('is empty');
  if (raw.length > MAX_UPSTREAM_URL_CHARS) return no(`is longer than ${MAX_UPSTREAM_URL_CHARS} characters`);
  if (UNSAFE_CHARACTERS.test(raw)) return no('contains whitespace, control characters or a backslash');
  const scheme = SCHEME.exec(raw)?.[1]?.toLowerCase();
  if (scheme === undefined) return no('is not an absolute URL');
  if (scheme !== 'https' && scheme !== 'http') return no(`uses the ${scheme}: scheme; only https URLs are accepted`);
  if (!raw.slice(scheme.length + 1).startsWith('//')) return no('is not an absolute URL with a host');
  if (!URL.canParse(raw)) return no('is not a valid URL');
  const url = new URL(raw);
  if (scheme === 'http' && !(allowLoopbackHttp && isLoopbackHost(url.hostname))) return no('uses plain http; only https URLs are accepted');
  const afterScheme = raw.slice(scheme.length + 3);
  const authority = afterScheme.slice(0, afterScheme.search(/[/?#]|$/));
  if (authority.includes('@') || url.username !== '' || url.password !== '') return no('contains a user name or password');
  if (raw.includes('#')) return no('contains a fragment');
  if (issuer && raw.includes('?')) return no('contains a query, which an issuer identifier must not (RFC 8414 §2)');
  return { ok: true, url };
}

/**
 * `candidate` lies under `base`: the same origin, and a path that is `base`'s path or continues it
 * at a `/`. A trailing slash on either is not significant (MCP 2025-11-25 "Canonical Server URI"
 * prefers the form without it, and servers answer with both). `/mcp` is under `/`, `/api` and
 * `/mcp`, never under `/mc` or `/mcp-admin`.
 */
export function isSameOriginPathPrefix(base: URL, candidate: URL): boolean {
  if (base.origin !== candidate.origin) return false;
  const trim = (path: string): string => path.replace(/\/$/, '');
  const basePath = trim(base.pathname);
  const candidatePath = trim(candidate.pathname);
  return candidatePath === basePath || candidatePath.startsWith(`${basePath}/`);
}
