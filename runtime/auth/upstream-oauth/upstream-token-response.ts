import { GatewayError } from '../../errors.js';

/**
 * A token endpoint's successful answer (RFC 6749 §5.1), checked before anything of it is stored
 * or sent on: what reaches the vault is a typed value, never the upstream's raw JSON.
 */
export interface UpstreamTokenSet {
  accessToken: string;
  /** Absent when the upstream issued none (or, on refresh, did not rotate it). */
  refreshToken?: string;
  /** Lifetime from `expires_in`; absent when the upstream did not say. */
  expiresInMs?: number;
  scope?: string;
}

/**
 * Tokens go into an `Authorization` header and into the store: a JWT with many claims is a few
 * kilobytes, so anything near this is a misconfigured or hostile endpoint, not a token.
 */
export const MAX_UPSTREAM_TOKEN_CHARS = 16 * 1024;
const MAX_SCOPE_CHARS = 4 * 1024;
/** Beyond ten years an `expires_in` is nonsense (and `now + it` stops being a sane timestamp). */
const MAX_EXPIRES_IN_S = 10 * 366 * 24 * 3600;
/*
 * Printable ASCII without space (RFC 6749 Appendix A.12 VSCHAR, minus the space that
 * would split a Bearer header, RFC 6750 §2.1): no CR/LF can reach a header we write.
 */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL_CHARS = /[\x00-\x1f\x7f]/;

/**
 * Parses the body of a 200 from `system`'s token endpoint. Anything else than a Bearer token of
 * sane size and shape is refused with ERR_UPSTREAM_BAD_RESPONSE; the message names the field
 * and never quotes a value (it could be the token).
 */
export function parseTokenResponse(body: unknown, system: string): UpstreamTokenSet {
  const refuse = (what: string): GatewayError =>
    new GatewayError('ERR_UPSTREAM_BAD_RESPONSE', `${system}'s token endpoint sent an unusable token response: ${what}`, {
      hint: `check the authorization server of ${system}: it must answer with an OAuth 2.0 Bearer token response (RFC 6749 §5.1)`,
    });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw refuse('the body is not a JSON object');
  const fields = body as Record<string, unknown>;
  const tokenType = fields['token_type'];
  // RFC 6749 §5.1: token_type is REQUIRED and case-insensitive; a MAC or DPoP token is not one we can send.
  if (typeof tokenType !== 'string') throw refuse('token_type is missing');
  if (tokenType.toLowerCase() !== 'bearer') throw refuse('token_type is not Bearer');
  const accessToken = tokenField(fields['access_token'], 'access_token', refuse);
  if (accessToken === undefined) throw refuse('access_token is missing');
  const refreshToken = tokenField(fields['refresh_token'], 'refresh_token', refuse);
  const result: UpstreamTokenSet = { accessToken };
  if (refreshToken !== undefined) result.refreshToken = refreshToken;
  const expiresIn = fields['expires_in'];
  if (expiresIn !== undefined) {
    if (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0) throw refuse('expires_in is not a non-negative number');
    if (expiresIn > MAX_EXPIRES_IN_S) throw refuse('expires_in is more than ten years');
    result.expiresInMs = Math.floor(expiresIn * 1000);
  }
  const scope = fields['scope'];
  if (scope !== undefined) {
    if (typeof scope !== 'string' || scope.length > MAX_SCOPE_CHARS || CONTROL_CHARS.test(scope)) throw refuse('scope is not a short string');
    result.scope = scope;
  }
  return result;
}

function tokenField(value: unknown, name: string, refuse: (what: string) => GatewayError): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw refuse(`${name} is not a non-empty string`);
  if (value.length > MAX_UPSTREAM_TOKEN_CHARS) throw refuse(`${name} is longer than ${MAX_UPSTREAM_TOKEN_CHARS} characters`);
  if (!TOKEN_CHARS.test(value)) throw refuse(`${name} holds characters a token cannot hold`);
  return value;
}
