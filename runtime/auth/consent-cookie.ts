import type { Request, Response } from 'express';
import type { AuthContext } from './auth-context.js';

/** `__Host-` (RFC 6265bis §4.1.3.2) pins the cookie to this host over https; plain http on loopback cannot use it. */
export function consentCookieName(ctx: AuthContext): string {
  return ctx.secureCookies ? '__Host-mcpgw-consent' : 'mcpgw-consent';
}

export function setConsentCookie(ctx: AuthContext, res: Response, value: string): void {
  res.cookie(consentCookieName(ctx), value, { httpOnly: true, sameSite: 'lax', secure: ctx.secureCookies, path: '/', maxAge: 10 * 60_000 });
}

export function clearConsentCookie(ctx: AuthContext, res: Response): void {
  res.clearCookie(consentCookieName(ctx), { httpOnly: true, sameSite: 'lax', secure: ctx.secureCookies, path: '/' });
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
