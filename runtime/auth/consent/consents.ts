import type { Store } from '../../store/store.js';
import { constantTimeEqual, randomToken, sha256Base64url } from '../crypto-helpers.js';
import type { PendingAuthorization, UpstreamCredential, UserIdentity } from '../tokens/grants.js';

/** A consent page on screen: bound to the browser by a cookie and to the form by a CSRF token. */
export interface ConsentPrompt {
  pending: PendingAuthorization;
  user: UserIdentity;
  upstream?: UpstreamCredential;
  cookieHash: string;
  csrfHash: string;
  /** The client's consent epoch when the page was shown: an approval of metadata that changed meanwhile is not remembered. */
  clientEpoch?: string;
}

/** What of a client a remembered consent depends on (ClientRecord satisfies it). */
export interface ConsentClient {
  clientId: string;
  /** Changes whenever the client's metadata does (RFC 7592 update; a metadata document's displayed fields). */
  consentEpoch?: string;
}

/** The approved scope sets under one (user, client, redirect URI, resource). */
interface RememberedConsent {
  grantedAt: number;
  scopeSets: string[][];
}

const PROMPT_TTL_MS = 10 * 60_000;
/** A remembered approval lasts as long as a refresh token could, then the user is asked again. */
const REMEMBER_MS = 90 * 86_400_000;
/** Distinct scope sets kept per key; the oldest is forgotten first (and asked for again). */
const MAX_SCOPE_SETS = 10;
const PREFIX = 'consent-granted:';

/** Records of registered clients from before epochs existed share this one; their first update moves them off it. */
const epochOf = (client: ConsentClient): string => client.consentEpoch ?? 'initial';
const scopeSet = (scope: string | undefined): string[] => [...new Set((scope ?? '').split(' ').filter((s) => s !== ''))].sort();
/** Per client, so that all of a client's consents can be found by prefix; hashed, since CIMD client ids are URLs of up to 2000 characters. */
const clientPrefix = (clientId: string): string => `${PREFIX}${sha256Base64url(clientId)}:`;

/**
 * Remembered consent covers exactly what the user saw on the page (DESIGN.md): the client as it
 * was then (its epoch), the redirect URI, the resource and the scopes. A request for another
 * redirect URI of the same client, another server, or a scope outside every approved set shows
 * the page again; a subset of an approved set does not, since the user agreed to more.
 */
export function rememberedConsentKey(sub: string, client: ConsentClient, redirectUri: string, resource: string): string {
  return `${clientPrefix(client.clientId)}${sha256Base64url(JSON.stringify([sub, epochOf(client), redirectUri, resource]))}`;
}

/**
 * Forgets every consent given to a client: on RFC 7592 update and deletion, admin removal and
 * pruning (client-registry.ts). The epoch already makes them unusable after an update; this keeps
 * the store from carrying them for 90 days.
 */
export async function forgetClientConsents(store: Store, clientId: string): Promise<number> {
  const keys = await store.keys(clientPrefix(clientId));
  const deleted = await Promise.all(keys.map((k) => store.delete(k)));
  return deleted.filter(Boolean).length;
}

/** A new epoch for a client whose metadata changed. */
export function newConsentEpoch(): string {
  return randomToken(12);
}

export function createConsentStore(store: Store) {
  return {
    async openPrompt(
      pending: PendingAuthorization,
      user: UserIdentity,
      client: ConsentClient,
      upstream?: UpstreamCredential,
    ): Promise<{ id: string; cookie: string; csrf: string }> {
      const id = randomToken(24);
      const cookie = randomToken(24);
      const csrf = randomToken(24);
      const prompt: ConsentPrompt = {
        pending,
        user,
        cookieHash: sha256Base64url(cookie),
        csrfHash: sha256Base64url(csrf),
        clientEpoch: epochOf(client),
        ...(upstream ? { upstream } : {}),
      };
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
    /** After an approval: remembers exactly what the prompt showed, under the client's epoch of that moment. */
    async remember(prompt: ConsentPrompt, now: number): Promise<void> {
      const { pending, user } = prompt;
      const client: ConsentClient = { clientId: pending.clientId, consentEpoch: prompt.clientEpoch ?? 'initial' };
      const key = rememberedConsentKey(user.sub, client, pending.redirectUri, pending.resource);
      const approved = scopeSet(pending.scope);
      const earlier = (await store.get<RememberedConsent>(key))?.scopeSets ?? [];
      // A set the new one contains adds nothing; a racing approval may drop a set, which only means asking again.
      const kept = earlier.filter((set) => !set.every((s) => approved.includes(s)));
      const value: RememberedConsent = { grantedAt: now, scopeSets: [...kept, approved].slice(-MAX_SCOPE_SETS) };
      await store.set(key, value, { ttlMs: REMEMBER_MS });
    },
    /** Whether this user approved this client (as it is now), redirect URI, resource and at least these scopes. */
    async isRemembered(sub: string, client: ConsentClient, pending: PendingAuthorization): Promise<boolean> {
      const remembered = await store.get<RememberedConsent>(rememberedConsentKey(sub, client, pending.redirectUri, pending.resource));
      if (remembered === undefined || !Array.isArray(remembered.scopeSets)) return false;
      const wanted = scopeSet(pending.scope);
      return remembered.scopeSets.some((set) => wanted.every((s) => set.includes(s)));
    },
  };
}

export type ConsentStore = ReturnType<typeof createConsentStore>;
