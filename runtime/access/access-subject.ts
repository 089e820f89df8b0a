import type { IncomingMessage } from 'node:http';

/**
 * Who is asking, as far as tool access is concerned: the login (`users:` rules, compared
 * lowercased) and the groups the login recorded (`org:acme`, `team:acme/readers`,
 * `domain:example.com`; only those some access rule names, see access-groups.ts). The router
 * copies both from the auth runtime's answer (edge contract: X-User-Login, X-User-Groups) after
 * deleting any the client sent, so a bridge may trust them.
 */
export interface AccessSubject {
  /** The token subject (the provider's immutable id): what rate limits count by. */
  readonly sub: string;
  readonly login: string;
  readonly groups: readonly string[];
}

/** The subject of a request that came through the router (x-user-login, x-user-groups). */
export function subjectOf(req: IncomingMessage): AccessSubject {
  const sub = req.headers['x-user-sub'];
  const login = req.headers['x-user-login'];
  const groups = req.headers['x-user-groups'];
  return {
    sub: typeof sub === 'string' ? sub : '',
    login: typeof login === 'string' ? login.toLowerCase() : '',
    groups: typeof groups === 'string' && groups !== '' ? groups.split(',') : [],
  };
}
