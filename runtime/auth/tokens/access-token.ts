import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import { randomToken } from '../crypto-helpers.js';
import { SIGNING_ALG, type KeySet } from './signing-keys.js';

/** RFC 9068 §2.1: access tokens are typed so no other JWT the issuer signs can be replayed as one. */
export const ACCESS_TOKEN_TYP = 'at+jwt';
/** Skew allowed between the clock that signed and the one that verifies. */
const CLOCK_TOLERANCE_S = 5;

export interface AccessTokenClaims {
  /**
   * Subject: the provider's immutable id (`github:<id>`, `oidc:...`, `local:<user>`, `cli:<login>`;
   * user-subject.ts). Bridges bind sessions to it. Tokens from before ids carry the login lowercased.
   */
  sub: string;
  /** What the user is called (display, audit, allowlist `user:` rules); can change and be reused. */
  login: string;
  /** Upstream numeric id when known (GitHub user id). */
  uid?: number;
  clientId: string;
  /** The resource (MCP endpoint URL) the token is for: its audience. */
  audience: string;
  scope?: string;
  /** The grant family (absent on tokens minted by `mcp-gateway token issue`). */
  familyId?: string;
  /** The allowlist rule that admitted the user; /verify checks it is still configured. */
  allowedBy?: string;
  /** The user's groups that servers' access rules name (access-groups.ts); /verify passes them to the bridge. */
  groups?: readonly string[];
}

export interface VerifiedAccessToken extends AccessTokenClaims {
  jti: string;
  expiresAt: number;
  issuedAt: number;
}

export async function signAccessToken(
  claims: AccessTokenClaims,
  { keys, issuer, ttlMs, now }: { keys: KeySet; issuer: string; ttlMs: number; now: number },
): Promise<{ token: string; expiresIn: number; jti: string }> {
  const iat = Math.floor(now / 1000);
  const expiresIn = Math.max(1, Math.floor(ttlMs / 1000));
  const jti = randomToken(16);
  const payload: JWTPayload = { login: claims.login, client_id: claims.clientId };
  if (claims.uid !== undefined) payload['uid'] = claims.uid;
  if (claims.scope) payload['scope'] = claims.scope;
  if (claims.familyId !== undefined) payload['fid'] = claims.familyId;
  if (claims.allowedBy !== undefined) payload['ab'] = claims.allowedBy;
  if (claims.groups !== undefined && claims.groups.length > 0) payload['grp'] = [...claims.groups];
  const token = await new SignJWT(payload)
    .setProtectedHeader({ alg: SIGNING_ALG, typ: ACCESS_TOKEN_TYP, kid: keys.current.kid })
    .setIssuer(issuer)
    .setSubject(claims.sub)
    .setAudience(claims.audience)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + expiresIn)
    .setJti(jti)
    .sign(keys.current.privateKey);
  return { token, expiresIn, jti };
}

/** Why a presented token was refused; `invalid_token` in the challenge either way (RFC 6750 §3.1). */
export type TokenRejection = 'malformed' | 'expired' | 'bad_signature' | 'wrong_audience' | 'wrong_issuer' | 'invalid_claims' | 'unknown_key';

export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
  constructor(
    readonly reason: TokenRejection,
    message: string,
  ) {
    super(message);
  }
}

export async function verifyAccessToken(
  token: string,
  { keys, issuer, audience, now }: { keys: KeySet; issuer: string; audience: string | string[]; now: number },
): Promise<VerifiedAccessToken> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      async (header) => {
        const key = header.kid === undefined ? undefined : keys.byKid.get(header.kid);
        if (!key) throw new TokenRejectedError('unknown_key', 'the token was signed by a key this gateway does not know');
        return key.publicKey;
      },
      {
        issuer,
        audience,
        algorithms: [SIGNING_ALG],
        typ: ACCESS_TOKEN_TYP,
        currentDate: new Date(now),
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'aud', 'iss'],
      },
    ));
  } catch (err) {
    throw toRejection(err);
  }
  const login = payload['login'];
  const clientId = payload['client_id'];
  const uid = payload['uid'];
  const scope = payload['scope'];
  const familyId = payload['fid'];
  const allowedBy = payload['ab'];
  const groups = payload['grp'];
  if (
    typeof login !== 'string' ||
    typeof clientId !== 'string' ||
    (uid !== undefined && typeof uid !== 'number') ||
    (scope !== undefined && typeof scope !== 'string') ||
    (familyId !== undefined && typeof familyId !== 'string') ||
    (allowedBy !== undefined && typeof allowedBy !== 'string') ||
    (groups !== undefined && !isGroupList(groups))
  ) {
    throw new TokenRejectedError('invalid_claims', 'the token lacks the gateway claims');
  }
  return {
    sub: payload.sub!,
    login,
    clientId,
    audience: typeof payload.aud === 'string' ? payload.aud : (payload.aud?.[0] ?? ''),
    jti: payload.jti!,
    expiresAt: payload.exp! * 1000,
    issuedAt: payload.iat! * 1000,
    ...(uid === undefined ? {} : { uid }),
    ...(scope === undefined ? {} : { scope }),
    ...(familyId === undefined ? {} : { familyId }),
    ...(allowedBy === undefined ? {} : { allowedBy }),
    ...(groups === undefined ? {} : { groups: groups as string[] }),
  };
}

/** Groups become a comma-separated header (X-User-Groups): no commas, no blanks, no control characters. */
function isGroupList(value: unknown): boolean {
  return Array.isArray(value) && value.length <= 200 && value.every((group) => typeof group === 'string' && /^[\x21-\x2b\x2d-\x7e]{1,300}$/.test(group));
}

function toRejection(err: unknown): TokenRejectedError {
  if (err instanceof TokenRejectedError) return err;
  if (err instanceof joseErrors.JWTExpired) return new TokenRejectedError('expired', 'the token has expired');
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return new TokenRejectedError('bad_signature', 'the token signature is invalid');
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'aud') return new TokenRejectedError('wrong_audience', 'the token is for another resource');
    if (err.claim === 'iss') return new TokenRejectedError('wrong_issuer', 'the token was issued by another authorization server');
    return new TokenRejectedError('invalid_claims', `the token's ${err.claim} claim is invalid`);
  }
  return new TokenRejectedError('malformed', 'the token is not a valid access token');
}
