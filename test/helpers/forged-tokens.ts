import { randomUUID, webcrypto } from 'node:crypto';
import { exportSPKI } from 'jose';
import type { GatewayHarness } from './gateway-harness.js';

type Key = webcrypto.CryptoKey;
type Json = Record<string, unknown>;

export interface ForgedToken {
  name: string;
  token: string;
}

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs header.payload as given, with no library in between to refuse odd headers (`crit`,
 * `b64: false`, a `kid` that is an object): the gateway must refuse them, not the test's signer.
 */
export async function signCompact(header: Json, payload: Json, key: Key): Promise<string> {
  const input = `${encode(header)}.${encode(payload)}`;
  const { name } = key.algorithm;
  const params =
    name === 'ECDSA'
      ? { name, hash: (key.algorithm as webcrypto.EcKeyAlgorithm).namedCurve === 'P-384' ? 'SHA-384' : 'SHA-256' }
      : name === 'HMAC'
        ? { name }
        : { name: 'RSASSA-PKCS1-v1_5' };
  const signature = await webcrypto.subtle.sign(params, key, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

async function hmacKey(secret: string): Promise<Key> {
  return webcrypto.subtle.importKey('raw', Buffer.from(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
}

/** The claims the gateway itself puts in an access token for `audience` (RFC 9068 plus its own). */
export function gatewayClaims(h: GatewayHarness, audience: string, overrides: Json = {}): Json {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: h.urls.issuer,
    sub: 'alice',
    aud: audience,
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: randomUUID(),
    login: 'alice',
    client_id: 'forged-client',
    ...overrides,
  };
}

/** A token exactly like the gateway's own, signed with its real key: the control every forgery is a variation of. */
export async function genuineToken(h: GatewayHarness, audience: string, overrides: Json = {}): Promise<string> {
  return signCompact(
    { alg: 'ES256', typ: 'at+jwt', kid: h.keys.current.kid },
    gatewayClaims(h, audience, overrides),
    h.keys.current.privateKey as unknown as Key,
  );
}

/**
 * Every way we know to forge or bend an access token for `audience`: unsigned, algorithm
 * confusion, foreign keys under the gateway's kid, tampering, wrong typ, missing or mistyped
 * claims, time, audience and issuer. The real forgeries carry `jti` (so one accepted by /revoke
 * would revoke the genuine token with that jti) and the `client_id` of the caller's choosing.
 * A genuine token for another server of the gateway is no forgery (it is valid there and
 * introspects as active); the suites test it on its own.
 */
export async function forgedTokens(h: GatewayHarness, audience: string, { jti, clientId }: { jti: string; clientId: string }): Promise<ForgedToken[]> {
  const kid = h.keys.current.kid;
  const gatewayKey = h.keys.current.privateKey as unknown as Key;
  const header = { alg: 'ES256', typ: 'at+jwt', kid };
  const claims = (overrides: Json = {}): Json => gatewayClaims(h, audience, { jti, client_id: clientId, ...overrides });
  // Only the gateway can sign with its key, so these variants test claim checks, not forgery: they
  // get a jti of their own (revoking one that is merely inactive must not hit the victim's jti).
  const withGatewayKey = (payload: Json, hdr: Json = header): Promise<string> =>
    signCompact(hdr, 'jti' in payload ? { ...payload, jti: randomUUID() } : payload, gatewayKey);
  const without = (name: string): Json => {
    const { [name]: _dropped, ...rest } = claims();
    return rest;
  };

  const attacker = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const attackerJwk = await webcrypto.subtle.exportKey('jwk', attacker.publicKey);
  const p384 = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-384' }, false, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const rsa = (await webcrypto.subtle.generateKey(
    { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  )) as webcrypto.CryptoKeyPair;
  const pem = await exportSPKI(h.keys.current.publicKey);
  const now = Math.floor(Date.now() / 1000);

  const genuine = await signCompact(header, claims(), gatewayKey);
  const [genuineHeader, genuinePayload, genuineSignature] = genuine.split('.') as [string, string, string];
  const other = await withGatewayKey(claims({ jti: randomUUID() }));

  const tokens: Array<[string, string | Promise<string>]> = [
    ['alg none, empty signature', `${encode({ alg: 'none', typ: 'at+jwt', kid })}.${encode(claims())}.`],
    ['alg none, genuine signature kept', `${encode({ alg: 'none', typ: 'at+jwt', kid })}.${genuinePayload}.${genuineSignature}`],
    ['alg NONE in capitals', `${encode({ alg: 'NONE', typ: 'at+jwt', kid })}.${encode(claims())}.`],
    ['HS256 keyed with the public key PEM', hmacKey(pem).then((k) => signCompact({ ...header, alg: 'HS256' }, claims(), k))],
    ['HS256 keyed with the public JWK', hmacKey(JSON.stringify(h.keys.current.publicJwk)).then((k) => signCompact({ ...header, alg: 'HS256' }, claims(), k))],
    ['ES256 by another key under the gateway kid', signCompact(header, claims(), attacker.privateKey)],
    ['ES256 by another key, embedded jwk header', signCompact({ ...header, jwk: attackerJwk }, claims(), attacker.privateKey)],
    ['ES256 by another key, jku header', signCompact({ ...header, jku: 'https://evil.example/jwks.json' }, claims(), attacker.privateKey)],
    ['ES384 by a P-384 key under the gateway kid', signCompact({ ...header, alg: 'ES384' }, claims(), p384.privateKey)],
    ['RS256 by an RSA key under the gateway kid', signCompact({ ...header, alg: 'RS256' }, claims(), rsa.privateKey)],
    ['gateway key, unknown kid', withGatewayKey(claims(), { ...header, kid: 'no-such-key' })],
    ['gateway key, no kid', withGatewayKey(claims(), { alg: 'ES256', typ: 'at+jwt' })],
    ['gateway key, kid is an object', withGatewayKey(claims(), { ...header, kid: { $ne: null } })],
    ['gateway key, kid of 4 KB', withGatewayKey(claims(), { ...header, kid: 'k'.repeat(4096) })],
    ['payload tampered after signing', `${genuineHeader}.${encode({ ...claims(), exp: now + 365 * 86_400 })}.${genuineSignature}`],
    ['header tampered after signing', `${encode({ ...header, typ: 'at+jwt', cty: 'x' })}.${genuinePayload}.${genuineSignature}`],
    ['signature stripped', `${genuineHeader}.${genuinePayload}.`],
    ["another token's signature", `${genuineHeader}.${genuinePayload}.${other.split('.')[2]!}`],
    ['typ JWT', withGatewayKey(claims(), { ...header, typ: 'JWT' })],
    ['typ missing', withGatewayKey(claims(), { alg: 'ES256', kid })],
    ['typ dpop+jwt', withGatewayKey(claims(), { ...header, typ: 'dpop+jwt' })],
    ['crit header the gateway does not understand', withGatewayKey(claims(), { ...header, crit: ['urn:example:x'], 'urn:example:x': true })],
    ['unencoded payload (b64: false)', withGatewayKey(claims(), { ...header, b64: false, crit: ['b64'] })],
    ['five parts (JWE shape)', `${genuine}.${genuineSignature}.x`],
    ...['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'login', 'client_id'].map((name): [string, Promise<string>] => [
      `claim ${name} missing`,
      withGatewayKey(without(name)),
    ]),
    ['login is a number', withGatewayKey(claims({ login: 42 }))],
    ['client_id is an array', withGatewayKey(claims({ client_id: [clientId] }))],
    ['scope is an array', withGatewayKey(claims({ scope: ['tools'] }))],
    ['exp is a string', withGatewayKey(claims({ exp: String(now + 600) }))],
    ['nbf an hour in the future', withGatewayKey(claims({ nbf: now + 3600 }))],
    ['expired a minute ago', withGatewayKey(claims({ iat: now - 700, nbf: now - 700, exp: now - 60 }))],
    ['expired a year ago', withGatewayKey(claims({ iat: now - 400 * 86_400, nbf: now - 400 * 86_400, exp: now - 365 * 86_400 }))],
    ['audience: the issuer itself', withGatewayKey(claims({ aud: h.urls.issuer }))],
    ['audience: a prefix of the resource', withGatewayKey(claims({ aud: audience.replace(/\/mcp$/, '') }))],
    ['audience: the resource with a trailing slash', withGatewayKey(claims({ aud: `${audience}/` }))],
    ['audience: the resource with a query', withGatewayKey(claims({ aud: `${audience}?x=1` }))],
    ['audience: the resource over https', withGatewayKey(claims({ aud: audience.replace(/^http:/, 'https:') }))],
    ['audience: the same path on another server', withGatewayKey(claims({ aud: `https://other.example${new URL(audience).pathname}` }))],
    ['audience: a list without the resource', withGatewayKey(claims({ aud: ['https://other.example/mcp', h.urls.issuer] }))],
    ['audience: empty', withGatewayKey(claims({ aud: '' }))],
    ['issuer: another server', withGatewayKey(claims({ iss: 'https://evil.example' }))],
    ['issuer: with a trailing slash', withGatewayKey(claims({ iss: `${h.urls.issuer}/` }))],
    ['issuer: over https', withGatewayKey(claims({ iss: h.urls.issuer.replace(/^http:/, 'https:') }))],
    ['user not on the allowlist', withGatewayKey(claims({ sub: 'mallory', login: 'mallory' }))],
    ['admitted by an allowlist rule that is not configured', withGatewayKey(claims({ sub: 'mallory', login: 'mallory', ab: 'org:evil' }))],
    ['admitting rule is a number', withGatewayKey(claims({ ab: 42 }))],
  ];
  return Promise.all(tokens.map(async ([name, token]) => ({ name, token: await token })));
}
