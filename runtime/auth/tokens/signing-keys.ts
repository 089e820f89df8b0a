import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { GatewayError } from '../../errors.js';
import { readSecret, writeSecret } from '../../config/secrets.js';

/** ES256: asymmetric, so verifiers (and a future JWKS consumer) never hold the signing secret. */
export const SIGNING_ALG = 'ES256';

interface StoredKey {
  kid: string;
  alg: typeof SIGNING_ALG;
  createdAt: string;
  /** When a newer key took over signing; the key only verifies from then on. */
  retiredAt?: string;
  privateJwk: JWK;
}

interface StoredKeyFile {
  version: 1;
  /** Newest first; the first key signs, all verify (rotation keeps old keys until their tokens expire). */
  keys: StoredKey[];
}

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export interface KeySet {
  /** The key new tokens are signed with. */
  current: SigningKey;
  byKid: ReadonlyMap<string, SigningKey>;
  /** The public half, as published at /jwks.json. */
  jwks: { keys: JWK[] };
}

export async function generateStoredKey(now: Date = new Date()): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(SIGNING_ALG, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(privateJwk);
  return { kid, alg: SIGNING_ALG, createdAt: now.toISOString(), privateJwk: { ...privateJwk, kid, alg: SIGNING_ALG, use: 'sig' } };
}

async function toSigningKey(stored: StoredKey): Promise<SigningKey> {
  const { d: _d, ...publicJwk } = stored.privateJwk;
  const privateKey = (await importJWK(stored.privateJwk, SIGNING_ALG)) as CryptoKey;
  const publicKey = (await importJWK(publicJwk, SIGNING_ALG)) as CryptoKey;
  return { kid: stored.kid, privateKey, publicKey, publicJwk };
}

export async function buildKeySet(keys: StoredKey[]): Promise<KeySet> {
  const signing = await Promise.all(keys.map(toSigningKey));
  const current = signing[0];
  if (!current) throw new GatewayError('ERR_KEYS_INVALID', 'the signing key file holds no key', { hint: 'run `mcp-gateway init` again to generate one' });
  return { current, byKid: new Map(signing.map((k) => [k.kid, k])), jwks: { keys: signing.map((k) => k.publicJwk) } };
}

/** A fresh in-memory key set (the demo, tests): tokens die with the process. */
export async function ephemeralKeySet(): Promise<KeySet> {
  return buildKeySet([await generateStoredKey()]);
}

export async function writeNewKeyFile(path: string): Promise<void> {
  const file: StoredKeyFile = { version: 1, keys: [await generateStoredKey()] };
  await writeSecret(path, `${JSON.stringify(file, null, 2)}\n`);
}

const KEY_FILE_HINT = 'restore it from a backup, or delete it and run `mcp-gateway init --force` (issued tokens stop working)';

function parseKeyFile(text: string, source: string, hint: string): StoredKeyFile {
  try {
    const parsed = JSON.parse(text) as StoredKeyFile;
    if (parsed.version !== 1 || !Array.isArray(parsed.keys) || parsed.keys.length === 0) throw new Error('unexpected shape');
    return parsed;
  } catch (err) {
    throw new GatewayError('ERR_KEYS_INVALID', `the signing key file ${source} cannot be read: ${(err as Error).message}`, { hint, cause: err });
  }
}

async function readKeyFile(path: string): Promise<StoredKeyFile> {
  const text = await readSecret(path);
  if (text === undefined) {
    throw new GatewayError('ERR_SECRET_MISSING', `the signing key file is missing (${path})`, {
      hint: 'run `mcp-gateway init --dir <project>` to generate one',
    });
  }
  return parseKeyFile(text, path, KEY_FILE_HINT);
}

/**
 * The key set from the content of a signing-keys.json handed over in memory (the container
 * runtimes get it as `MCPGW_SIGNING_KEYS`); `source` names where it came from in errors.
 */
export async function keySetFromJson(
  text: string,
  { source = 'MCPGW_SIGNING_KEYS', hint = KEY_FILE_HINT }: { source?: string; hint?: string } = {},
): Promise<KeySet> {
  const file = parseKeyFile(text, source, hint);
  try {
    return await buildKeySet(file.keys);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('ERR_KEYS_INVALID', `the signing key file ${source} holds an unusable key: ${(err as Error).message}`, { hint, cause: err });
  }
}

export interface RotationResult {
  newKid: string;
  /** Older keys still published: they verify tokens signed before the rotation until those expire. */
  verifying: Array<{ kid: string; retiredAt: string }>;
  /** Keys removed because every token they signed has expired. */
  removed: string[];
}

/**
 * `mcp-gateway keys rotate`: a new key signs from now on; the previous ones stay in the file and
 * in the JWKS until `retireAfterMs` (the access-token lifetime plus skew) after they were
 * superseded, then they are dropped. Written atomically, 0600.
 */
export async function rotateKeyFile(path: string, { now = new Date(), retireAfterMs }: { now?: Date; retireAfterMs: number }): Promise<RotationResult> {
  const file = await readKeyFile(path);
  const fresh = await generateStoredKey(now);
  const removed: string[] = [];
  const kept: StoredKey[] = [];
  for (const key of file.keys) {
    const retiredAt = key.retiredAt ?? now.toISOString();
    if (now.getTime() - Date.parse(retiredAt) > retireAfterMs) removed.push(key.kid);
    else kept.push({ ...key, retiredAt });
  }
  await writeSecret(path, `${JSON.stringify({ version: 1, keys: [fresh, ...kept] } satisfies StoredKeyFile, null, 2)}\n`);
  return { newKid: fresh.kid, verifying: kept.map((k) => ({ kid: k.kid, retiredAt: k.retiredAt! })), removed };
}

export async function loadKeySet(path: string): Promise<KeySet> {
  const file = await readKeyFile(path);
  try {
    return await buildKeySet(file.keys);
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('ERR_KEYS_INVALID', `the signing key file ${path} holds an unusable key: ${(err as Error).message}`, {
      hint: KEY_FILE_HINT,
      cause: err,
    });
  }
}
