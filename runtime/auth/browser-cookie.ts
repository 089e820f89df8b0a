import type { Request, Response } from 'express';
import type { AuthContext } from './auth-context.js';
import { constantTimeEqual, sha256Base64url } from './crypto-helpers.js';

/**
 * The cookies that tie a step of the authorization flow to the browser that took the step
 * before: `login` (the upstream login's `state` comes back to the browser that started it) and
 * `consent` (the consent form is answered by the browser it was shown in). The store keeps only
 * the value's SHA-256; the browser keeps the value.
 */
export type BrowserCookie = 'login' | 'consent';

/** `__Host-` (RFC 6265bis §4.1.3.2) pins the cookie to this host over https; plain http on loopback cannot use it. */
export function browserCookieName(ctx: AuthContext, cookie: BrowserCookie): string {
  return ctx.secureCookies ? `__Host-mcpgw-${cookie}` : `mcpgw-${cookie}`;
}

/**
 * HttpOnly; Secure over https; SameSite=Lax because GitHub and OpenID providers come back with a
 * top-level cross-site GET, which Strict would strip the cookie from; Path=/ as `__Host-` requires.
 */
function attributes(ctx: AuthContext) {
  return { httpOnly: true, sameSite: 'lax', secure: ctx.secureCookies, path: '/' } as const;
}

export function setBrowserCookie(ctx: AuthContext, res: Response, cookie: BrowserCookie, value: string, maxAgeMs: number): void {
  res.cookie(browserCookieName(ctx, cookie), value, { ...attributes(ctx), maxAge: maxAgeMs });
}

export function clearBrowserCookie(ctx: AuthContext, res: Response, cookie: BrowserCookie): void {
  res.clearCookie(browserCookieName(ctx, cookie), attributes(ctx));
}

export function readBrowserCookie(ctx: AuthContext, req: Request, cookie: BrowserCookie): string | undefined {
  return readCookie(req, browserCookieName(ctx, cookie));
}

/** Does the browser's cookie value hash to what was stored? Constant time, so the hash cannot be probed byte by byte. */
export function cookieMatches(value: string | undefined, storedHash: string | undefined): boolean {
  return value !== undefined && storedHash !== undefined && constantTimeEqual(sha256Base64url(value), storedHash);
}

/** express has no cookie parser built in; one cookie by name is all we need. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
