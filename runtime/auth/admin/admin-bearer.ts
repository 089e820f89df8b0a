import { ADMIN_TOKEN_PATTERN } from '../../config/admin-token.js';
import { constantTimeEqual, sha256Base64url } from '../crypto-helpers.js';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Whether an Authorization header carries the admin token (`.secrets/admin-token`): for the
 * admin API and GET /metrics. Hashing both sides first makes the comparison constant-time
 * whatever the presented length.
 */
export function adminBearerCheck(adminToken: string): (authorization: string | undefined) => boolean {
  if (!ADMIN_TOKEN_PATTERN.test(adminToken)) throw new TypeError('the admin token must be 43-128 base64url characters (256 bits or more)');
  const expected = sha256Base64url(adminToken);
  return (authorization) => {
    const match = BEARER.exec(authorization ?? '');
    return match !== null && constantTimeEqual(sha256Base64url(match[1]!), expected);
  };
}
