import type { Store } from '../store/store.js';
import { constantTimeEqual, randomToken, sha256Base64url } from './crypto-helpers.js';
import type { PendingAuthorization, UpstreamCredential, UserIdentity } from './grants.js';

/** A consent page on screen: bound to the browser by a cookie and to the form by a CSRF token. */
export interface ConsentPrompt {
  pending: PendingAuthorization;
  user: UserIdentity;
  upstream?: UpstreamCredential;
  cookieHash: string;
  csrfHash: string;
}

const PROMPT_TTL_MS = 10 * 60_000;
/** A remembered approval lasts as long as a refresh token could, then the user is asked again. */
const REMEMBER_MS = 90 * 86_400_000;

export function createConsentStore(store: Store) {
  const rememberedKey = (sub: string, clientId: string): string => `consent-granted:${sub}:${clientId}`;
  return {
    async openPrompt(pending: PendingAuthorization, user: UserIdentity, upstream?: UpstreamCredential): Promise<{ id: string; cookie: string; csrf: string }> {
      const id = randomToken(24);
      const cookie = randomToken(24);
      const csrf = randomToken(24);
      const prompt: ConsentPrompt = { pending, user, cookieHash: sha256Base64url(cookie), csrfHash: sha256Base64url(csrf), ...(upstream ? { upstream } : {}) };
      await store.set(`consent:${id}`, prompt, { ttlMs: PROMPT_TTL_MS });
      return { id, cookie, csrf };
    },
    /** Single use: the prompt is consumed whether the answer is approve or deny. Undefined when it is unknown, or the cookie or CSRF token does not match. */
    async answerPrompt(id: string, cookie: string, csrf: string): Promise<ConsentPrompt | 'unknown' | 'forged'> {
      if (id.length === 0 || id.length > 100) return 'unknown';
      const prompt = await store.get<ConsentPrompt>(`consent:${id}`);
      if (!prompt) return 'unknown';
      if (!constantTimeEqual(sha256Base64url(cookie), prompt.cookieHash) || !constantTimeEqual(sha256Base64url(csrf), prompt.csrfHash)) return 'forged';
      const taken = await store.take<ConsentPrompt>(`consent:${id}`);
      return taken ?? 'unknown';
    },
    async remember(sub: string, clientId: string, now: number): Promise<void> {
      await store.set(rememberedKey(sub, clientId), { grantedAt: now }, { ttlMs: REMEMBER_MS });
    },
    async isRemembered(sub: string, clientId: string): Promise<boolean> {
      return (await store.get(rememberedKey(sub, clientId))) !== undefined;
    },
  };
}

export type ConsentStore = ReturnType<typeof createConsentStore>;
