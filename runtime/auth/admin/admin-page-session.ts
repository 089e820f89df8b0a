import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { readCookie } from '../browser-cookie.js';
import { constantTimeEqual, randomToken, sha256Base64url } from '../crypto-helpers.js';
import { createUserPolicy, type UserFacts, type UserPolicy } from '../policy/user-policy.js';

/** A working day; the session is not extended by use, so a stolen cookie does not live on. */
export const ADMIN_SESSION_TTL_MS = 8 * 3_600_000;

/** What randomToken(32) makes: anything else in the cookie is not looked up. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

/** One admin page login, in the store under the SHA-256 of the cookie's value. */
export interface AdminSessionRecord {
  sub: string;
  login: string;
  /** What the login proved, re-checked against `admins:` on every request (the config may change). */
  facts: UserFacts;
  /** Bound to this session: a form from another admin's page does not work in this one. */
  csrf: string;
  createdAt: number;
}

const key = (id: string): string => `admin-session:${sha256Base64url(id)}`;

/** `__Host-` over https, as browser-cookie.ts does: no other host or path can set or shadow it. */
export function adminCookieName(ctx: AuthContext): string {
  return ctx.secureCookies ? '__Host-mcpgw-admin' : 'mcpgw-admin';
}

/**
 * SameSite=Strict: the page's forms post to the page, and nothing cross-site ever needs the
 * cookie (the login ends on a page of ours that navigates to /admin/, admin-page-html.ts).
 */
function attributes(ctx: AuthContext) {
  return { httpOnly: true, sameSite: 'strict', secure: ctx.secureCookies, path: '/' } as const;
}

export async function openAdminSession(ctx: AuthContext, res: Response, user: { sub: string; login: string; facts: UserFacts }): Promise<AdminSessionRecord> {
  const id = randomToken(32);
  const record: AdminSessionRecord = { ...user, csrf: randomToken(32), createdAt: ctx.now() };
  await ctx.store.set(key(id), record, { ttlMs: ADMIN_SESSION_TTL_MS });
  res.cookie(adminCookieName(ctx), id, { ...attributes(ctx), maxAge: ADMIN_SESSION_TTL_MS });
  return record;
}

/** The admin session this browser's cookie names, if it is still in the store. */
export async function currentAdminSession(ctx: AuthContext, req: Request): Promise<AdminSessionRecord | undefined> {
  const id = readCookie(req, adminCookieName(ctx));
  if (id === undefined || !SESSION_ID.test(id)) return undefined;
  const record = await ctx.store.get<AdminSessionRecord>(key(id));
  // The embedded store's clock may differ from the TTL's: the record's own age decides too.
  if (record === undefined || ctx.now() - record.createdAt > ADMIN_SESSION_TTL_MS) return undefined;
  return record;
}

export async function closeAdminSession(ctx: AuthContext, req: Request, res: Response): Promise<void> {
  const id = readCookie(req, adminCookieName(ctx));
  if (id !== undefined && SESSION_ID.test(id)) await ctx.store.delete(key(id));
  res.clearCookie(adminCookieName(ctx), attributes(ctx));
}

export function csrfMatches(session: AdminSessionRecord, sent: unknown): boolean {
  return typeof sent === 'string' && sent.length <= 100 && constantTimeEqual(sent, session.csrf);
}

const policies = new WeakMap<readonly string[], UserPolicy>();

/** Is this user one of `admins:`? The same forms as allowedUsers, matched by the same code. */
export function isAdminUser(ctx: AuthContext, facts: UserFacts): boolean {
  // ctx.config is replaced on reload: the policy follows its list.
  const admins = ctx.config.admins;
  let policy = policies.get(admins);
  if (policy === undefined) policies.set(admins, (policy = createUserPolicy({ users: admins })));
  return policy.isAllowed(facts);
}
