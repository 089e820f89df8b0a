import type { IncomingMessage, ServerResponse } from 'node:http';
import * as oidcProvider from 'oidc-provider';

/**
 * The part of oidc-provider 9.x's API this stand-in uses, typed from its lib/ (provider.js,
 * models/grant.js, helpers/interaction_policy, helpers/errors.js). oidc-provider ships no types and
 * test/types/oidc-provider.d.ts declares only what the OpenID login tests need, so this file is the
 * one place that steps from those declarations to this view; the rest of the folder sees only it.
 */

export interface OidcError extends Error {
  /** The RFC 6749 error code, e.g. `invalid_grant`. */
  error: string;
  error_description?: string;
  status: number;
}

/** `ctx.oidc` of a request, as the events and configuration callbacks receive it. */
export interface OidcContext {
  oidc: {
    route?: string;
    params?: Record<string, unknown>;
    client?: { clientId: string };
    session?: { accountId?: string };
  };
}

export interface OidcInteraction {
  uid: string;
  prompt: {
    name: 'login' | 'consent' | (string & {});
    reasons: string[];
    details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
  };
  params: Record<string, unknown>;
  /** Who the browser's session had logged in, if anyone. */
  session?: { accountId: string; uid: string };
  grantId?: string;
}

export interface OidcSession {
  accountId: string | undefined;
  loginTs: number | undefined;
  authorizations: Record<string, unknown> | undefined;
  persist(): Promise<unknown>;
}

export type InteractionResult = { login: { accountId: string } } | { consent: { grantId: string } } | { error: string; error_description?: string };

export interface OidcGrant {
  readonly jti: string;
  accountId: string;
  clientId: string;
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(resource: string, scope: string): void;
  save(): Promise<string>;
  destroy(): Promise<void>;
}

export interface OidcGrantModel {
  new (init: { accountId: string; clientId: string }): OidcGrant;
  find(id: string): Promise<OidcGrant | undefined>;
}

/** An access token as `access_token.issued` hands it over (a JWT one is never stored, only issued). */
export interface OidcIssuedAccessToken {
  jti: string;
  accountId?: string;
  clientId: string;
  grantId?: string;
  /** Seconds since the epoch. */
  exp: number;
  aud?: string | string[];
  scope?: string;
}

interface RevocableModel {
  revokeByGrantId(grantId: string): Promise<void>;
}

export interface OidcProvider {
  readonly issuer: string;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: 'grant.success', listener: (ctx: OidcContext) => void): this;
  on(event: 'grant.error' | 'server_error', listener: (ctx: OidcContext, err: OidcError) => void): this;
  on(event: 'access_token.issued', listener: (token: OidcIssuedAccessToken) => void): this;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  /** Records the result; resolves to the authorization endpoint's resume URL to send the browser to. */
  interactionResult(req: IncomingMessage, res: ServerResponse, result: InteractionResult, options?: { mergeWithLastSubmission?: boolean }): Promise<string>;
  readonly Grant: OidcGrantModel;
  readonly Session: { findByUid(uid: string): Promise<OidcSession | undefined> };
  readonly AccessToken: RevocableModel;
  readonly RefreshToken: RevocableModel;
  readonly AuthorizationCode: RevocableModel;
}

/** A check of an interaction prompt: true (`REQUEST_PROMPT`) asks the prompt to be shown. */
export interface OidcCheck {
  readonly reason: string;
}

export interface OidcPrompt {
  readonly name: string;
  readonly checks: OidcCheck[] & { add(check: OidcCheck, index?: number): void };
}

interface OidcProviderModule {
  default: new (issuer: string, configuration: Record<string, unknown>) => OidcProvider;
  errors: { InvalidTarget: new (description?: string) => OidcError };
  interactionPolicy: {
    base(): OidcPrompt[] & { get(name: string): OidcPrompt | undefined };
    Check: new (reason: string, description: string, check: (ctx: OidcContext) => boolean | Promise<boolean>) => OidcCheck;
  };
}

const oidc = oidcProvider as unknown as OidcProviderModule;

export const OidcProviderClass = oidc.default;
export const oidcErrors = oidc.errors;
export const interactionPolicy = oidc.interactionPolicy;
