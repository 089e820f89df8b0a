import { hkdfSync } from 'node:crypto';
import { createSealedBox } from '../../auth/sealed-box.js';

/** What a sealed session id says: the bridge replica that owns the session, and that replica's own id for it. */
export interface OpenedSession {
  /** `host:port` (`[v6]:port`) of the owning replica. */
  owner: string;
  /** The id the bridge replica issued, which it alone knows. */
  sessionId: string;
}

export interface SessionSeal {
  /** The Mcp-Session-Id the client gets: opaque, authenticated, bound to this server and user. */
  seal(session: OpenedSession, server: string, user: string): string;
  /** Undefined for anything this router's key did not seal for this server and user (forged, tampered, another user's, another server's). */
  open(sealed: string, server: string, user: string): OpenedSession | undefined;
}

const PREFIX = 's1.';
/** Longer than any id we seal (a replica address and a UUID come to ~110 characters); a longer header is not ours. */
const MAX_SEALED_LENGTH = 1024;
const SEALED = /^s1\.[A-Za-z0-9_-]+$/;
/** Ids the spec allows (visible ASCII, basic/transports: Session Management), of a sane length. */
const SESSION_ID = /^[\x21-\x7E]{1,512}$/;
const OWNER = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

/**
 * Session ids any router replica can route (issue 16): the owner's address and the bridge's own
 * id, sealed with AES-256-GCM (the gateway's SealedBox) under a key every router replica shares
 * (MCPGW_SESSION_KEY). The associated data binds the id to the server and to the user the token
 * names, so another user's id, or one moved between servers, does not open: it gets 404 and is
 * never routed. A random IV per id keeps ids unguessable and unlinkable; nothing about the
 * replica is readable without the key.
 */
export function createSessionSeal(key: Uint8Array): SessionSeal {
  if (key.length !== 32) throw new TypeError('createSessionSeal: the key must be 32 bytes');
  // Its own key, derived: the session key could one day serve another purpose without the two mixing.
  const box = createSealedBox(new Uint8Array(hkdfSync('sha256', key, new Uint8Array(0), 'mcp-gateway session id v1', 32)));
  const bound = (server: string, user: string): string => `mcp-session\0${server}\0${user}`;
  return {
    seal({ owner, sessionId }, server, user) {
      if (!OWNER.test(owner)) throw new TypeError(`createSessionSeal: ${owner} is not host:port`);
      if (!SESSION_ID.test(sessionId)) throw new TypeError('createSessionSeal: the session id is not 1-512 visible ASCII characters');
      return PREFIX + box.seal(`${owner} ${sessionId}`, bound(server, user));
    },
    open(sealed, server, user) {
      if (sealed.length > MAX_SEALED_LENGTH || !SEALED.test(sealed)) return undefined;
      const body = sealed.slice(PREFIX.length);
      // One spelling per id: base64url's last character has spare bits that decode alike.
      if (Buffer.from(body, 'base64url').toString('base64url') !== body) return undefined;
      const text = box.open(body, bound(server, user));
      if (text === undefined) return undefined;
      const space = text.indexOf(' ');
      const owner = text.slice(0, space);
      const sessionId = text.slice(space + 1);
      return space > 0 && OWNER.test(owner) && SESSION_ID.test(sessionId) ? { owner, sessionId } : undefined;
    },
  };
}
