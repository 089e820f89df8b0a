import { isLoopbackHost } from '../../config/schema.js';
import { DISPLAY_TEXT_MESSAGE, isDisplaySafe } from './display-text.js';

/**
 * OpenID Connect Dynamic Client Registration 1.0 §2 `application_type`, which MCP 2026-07-28
 * clients MUST send at registration (client-registration "Application Type and Redirect URI
 * Constraints"). Absent means "web" under OIDC, but 2025 clients never send it, so the gateway
 * reads absent as "not stated" and keeps its type-free policy for them (see below).
 */
export const APPLICATION_TYPES = ['web', 'native'] as const;
export type ApplicationType = (typeof APPLICATION_TYPES)[number];
export const APPLICATION_TYPE_MESSAGE = 'must be "web" or "native" (OpenID Connect Dynamic Client Registration 1.0 §2)';

const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'ftp:', 'ws:', 'wss:']);
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+.-]*:$/;

/**
 * Which redirect URIs a client may register (DESIGN.md): https anywhere; http only on a loopback
 * host (native apps, RFC 8252 §7.3); private-use schemes of native apps (RFC 8252 §7.1, e.g.
 * `cursor://`). Never fragments (RFC 6749 §3.1.2), never script-bearing or opaque schemes.
 *
 * A stated `application_type` narrows that as OIDC Registration §2 does, so a client ID cannot be
 * shared across kinds of client:
 * - "web": https, and http on loopback (OIDC requires https only of implicit-grant web clients,
 *   which this server has none of; a locally served web client such as MCP Inspector keeps
 *   working). No private-use scheme: a browser application cannot receive one.
 * - "native": private-use schemes, http on loopback, and claimed https URLs (RFC 8252 §7.2, which
 *   OIDC's older text predates); https on a loopback host is none of those and is refused, as
 *   panva/oidc-provider does.
 * Returns the reason a URI is refused, or undefined when it is acceptable.
 */
export function redirectUriProblem(uri: string, applicationType?: ApplicationType): string | undefined {
  if (uri.length > 2000) return 'is longer than 2000 characters';
  // The URI is listed to operators and its host shown on the consent page; URL parsing would
  // percent-encode a bidi override in the path, but the stored string keeps it.
  if (!isDisplaySafe(uri)) return DISPLAY_TEXT_MESSAGE;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'is not an absolute URI';
  }
  if (uri.includes('#')) return 'must not contain a fragment';
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  const scheme = url.protocol.toLowerCase();
  if (FORBIDDEN_SCHEMES.has(scheme)) return `uses the forbidden scheme ${scheme}`;
  if (scheme === 'https:') {
    if (url.hostname === '') return 'has no host';
    if (applicationType === 'native' && isLoopbackHost(url.hostname)) {
      return 'uses https on a loopback host: application_type "native" allows http on loopback (RFC 8252 §7.3), a private-use scheme (§7.1) or an https URL on a domain the application claims (§7.2)';
    }
    return undefined;
  }
  if (scheme === 'http:') return isLoopbackHost(url.hostname) ? undefined : 'uses http on a non-loopback host (use https)';
  // A private-use scheme should be a reverse domain name (RFC 8252 §7.1), but real clients use
  // short ones (cursor://, vscode://), so any syntactically valid scheme other than the forbidden ones is allowed.
  if (!PRIVATE_USE_SCHEME.test(scheme)) return 'has an invalid scheme';
  if (applicationType === 'web') {
    return `uses the private-use scheme ${scheme}, which application_type "web" does not allow (OpenID Connect Dynamic Client Registration 1.0 §2): register it with application_type "native", or use an https redirect URI`;
  }
  return undefined;
}
