import type { Request } from 'express';
import type { AuthContext } from '../auth-context.js';
import type { ClientRecord } from './client-registry.js';
import { OAuthError } from '../oauth-error.js';
import { param } from '../endpoints/request-params.js';

/** Parses `Authorization: Basic` per RFC 6749 §2.3.1: id and secret are form-urlencoded before base64. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) throw new OAuthError('invalid_client', 'malformed Basic credentials');
  try {
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) };
  } catch {
    throw new OAuthError('invalid_client', 'malformed Basic credentials');
  }
}

/**
 * Authenticates the client at the token endpoint with the method it registered: confidential
 * clients by client_secret_basic or client_secret_post, public clients (`none`) by client_id
 * alone, relying on PKCE. Using a method other than the registered one is refused.
 */
export async function authenticateClient(ctx: AuthContext, req: Request): Promise<ClientRecord> {
  const basic = basicCredentials(req.headers.authorization);
  const bodyId = param(req.body, 'client_id');
  const bodySecret = param(req.body, 'client_secret');
  if (basic && (bodySecret !== undefined || (bodyId !== undefined && bodyId !== basic.id))) {
    throw new OAuthError('invalid_request', 'use one client authentication method, not several');
  }
  const clientId = basic?.id ?? bodyId;
  if (clientId === undefined) throw new OAuthError('invalid_client', 'client authentication is required (client_id)');
  const client = await ctx.clients.get(clientId);
  if (!client) throw new OAuthError('invalid_client', 'unknown client');
  const presented = basic ? 'client_secret_basic' : bodySecret !== undefined ? 'client_secret_post' : 'none';
  if (presented !== client.tokenEndpointAuthMethod) {
    throw new OAuthError('invalid_client', `this client must authenticate with ${client.tokenEndpointAuthMethod}`);
  }
  const secret = basic?.secret ?? bodySecret;
  if (secret !== undefined && !ctx.clients.secretMatches(client, secret)) throw new OAuthError('invalid_client', 'client authentication failed');
  return client;
}
