import type { Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { browserCookieName, clearBrowserCookie, setBrowserCookie } from '../browser-cookie.js';

export { readCookie } from '../browser-cookie.js';

/** The consent page's half of the browser binding (browser-cookie.ts); the prompt in the store holds the other. */
export function consentCookieName(ctx: AuthContext): string {
  return browserCookieName(ctx, 'consent');
}

export function setConsentCookie(ctx: AuthContext, res: Response, value: string): void {
  setBrowserCookie(ctx, res, 'consent', value, 10 * 60_000);
}

export function clearConsentCookie(ctx: AuthContext, res: Response): void {
  clearBrowserCookie(ctx, res, 'consent');
}
