import { isLoopbackHost } from '../../config/schema.js';
import { DISPLAY_TEXT_MESSAGE, isDisplaySafe } from './display-text.js';

/**
 * Which redirect URIs a client may register (DESIGN.md): https anywhere; http only on a loopback
 * host (native apps, RFC 8252 §7.3); private-use schemes of native apps (RFC 8252 §7.1, e.g.
 * `cursor://`). Never fragments (RFC 6749 §3.1.2), never script-bearing or opaque schemes.
 * Returns the reason a URI is refused, or undefined when it is acceptable.
 */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'vbscript:', 'file:', 'blob:', 'about:', 'ftp:', 'ws:', 'wss:']);
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+.-]*:$/;

export function redirectUriProblem(uri: string): string | undefined {
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
  if (scheme === 'https:') return url.hostname === '' ? 'has no host' : undefined;
  if (scheme === 'http:') return isLoopbackHost(url.hostname) ? undefined : 'uses http on a non-loopback host (use https)';
  // A private-use scheme should be a reverse domain name (RFC 8252 §7.1), but real clients use
  // short ones (cursor://, vscode://), so any syntactically valid scheme other than the forbidden ones is allowed.
  return PRIVATE_USE_SCHEME.test(scheme) ? undefined : 'has an invalid scheme';
}
