import type { Store } from '../../store/store.js';
import { constantTimeEqual, sha256Base64url } from '../crypto-helpers.js';
import { randomInt } from 'node:crypto';
import type { UpstreamLoginBase } from './upstream-login.js';

/** No 0/O/1/I/L: the code is read off a terminal and typed by hand. */
const ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
const MAX_ATTEMPTS = 5;
const CODE_TTL_MS = 10 * 60_000;
const TRIES = { count: MAX_ATTEMPTS, windowMs: CODE_TTL_MS };

export interface LocalLoginAnnouncement {
  code: string;
  clientName: string;
  user: string;
}

interface StoredCode {
  codeHash: string;
}

export type LocalCodeCheck = 'ok' | 'wrong' | 'expired';

/**
 * Login without an identity provider: each login attempt gets a fresh one-time code that only
 * the operator sees (printed in the gateway's terminal). Single-use, 10 minutes, 5 tries.
 *
 * The tries are counted by the store's rate counter, one atomic count per login: they used to be
 * a number read, incremented and written back with the code, so guesses sent at once (to one
 * process, or spread over auth replicas) all read the same count and got more than 5 tries.
 */
export function createLocalLogin({
  store,
  user,
  loginUrl,
  announce,
}: {
  store: Store;
  user: string;
  loginUrl: string;
  announce: (a: LocalLoginAnnouncement) => void;
}) {
  const upstream: UpstreamLoginBase & { readonly kind: 'local'; check(pendingId: string, code: string): Promise<LocalCodeCheck>; user: string } = {
    kind: 'local',
    user,
    async begin(pendingId, { clientName }) {
      const raw = Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('');
      const code = `${raw.slice(0, 4)}-${raw.slice(4)}`;
      await store.set(`local-login:${pendingId}`, { codeHash: sha256Base64url(raw) } satisfies StoredCode, { ttlMs: CODE_TTL_MS });
      announce({ code, clientName, user });
      return `${loginUrl}?txn=${encodeURIComponent(pendingId)}`;
    },
    async check(pendingId, code) {
      const key = `local-login:${pendingId}`;
      const stored = await store.get<StoredCode>(key);
      if (!stored) return 'expired';
      // The window starts after the code was made, so it outlasts the code: a count never restarts for it.
      const attempt = await store.rates.consume(`auth:local-login\n${pendingId}`, TRIES);
      if (!attempt.allowed) {
        await store.delete(key);
        return 'expired';
      }
      const typed = code.toUpperCase().replace(/[^A-Z0-9]/g, '');
      // The caller takes the pending authorization (atomic), which makes a right code single-use.
      if (constantTimeEqual(sha256Base64url(typed), stored.codeHash)) {
        await store.delete(key);
        return 'ok';
      }
      if (attempt.count >= MAX_ATTEMPTS) {
        await store.delete(key);
        return 'expired';
      }
      return 'wrong';
    },
  };
  return upstream;
}

export type LocalLogin = ReturnType<typeof createLocalLogin>;
