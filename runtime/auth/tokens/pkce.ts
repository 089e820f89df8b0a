import { constantTimeEqual, sha256Base64url } from '../crypto-helpers.js';

/** RFC 7636 §4.2: S256 challenges are base64url(SHA-256(verifier)) = 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** RFC 7636 §4.1: 43-128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

export function isValidS256Challenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

export function verifierMatchesChallenge(verifier: string, challenge: string): boolean {
  return VERIFIER.test(verifier) && constantTimeEqual(sha256Base64url(verifier), challenge);
}
