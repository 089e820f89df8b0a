import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { clientInformationResponse, parseClientMetadata } from '../clients/client-metadata.js';
import type { ClientRecord } from '../clients/client-registry.js';
import { OAuthError, sendOAuthError } from '../oauth-error.js';
import { registrationClientUri } from './register-endpoint.js';
import { param } from './request-params.js';

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * RFC 7592 client configuration endpoint at `registration_client_uri` (/register/:clientId),
 * authorised by the registration access token issued at registration. An unknown client and a
 * wrong token answer the same 401 (RFC 7592 §2: do not reveal which clients exist).
 */
export function clientManagementEndpoint(ctx: AuthContext) {
  async function authorise(req: Request, res: Response): Promise<ClientRecord | undefined> {
    const clientId = String(req.params['clientId'] ?? '');
    const match = BEARER.exec(req.get('authorization') ?? '');
    const client = match ? await ctx.clients.getRegistered(clientId) : undefined;
    if (!match || !client || !ctx.clients.registrationTokenMatches(client, match[1]!)) {
      res
        .status(401)
        .set({
          'WWW-Authenticate': `Bearer error="invalid_token", error_description="a valid registration access token is required"`,
          'Cache-Control': 'no-store',
        })
        .json({ error: 'invalid_token', error_description: 'a valid registration access token is required' });
      return undefined;
    }
    return client;
  }

  return {
    async read(req: Request, res: Response): Promise<void> {
      const client = await authorise(req, res);
      if (!client) return;
      res
        .status(200)
        .set('Cache-Control', 'no-store')
        .json(clientInformationResponse(client, { registrationClientUri: registrationClientUri(ctx, client.clientId) }));
    },

    async update(req: Request, res: Response): Promise<void> {
      const client = await authorise(req, res);
      if (!client) return;
      try {
        if (!req.is('application/json')) throw new OAuthError('invalid_client_metadata', 'the update must be application/json');
        // RFC 7592 §2.2: the body carries the client_id, and a client_secret only if it is the current one.
        if (param(req.body, 'client_id') !== client.clientId)
          throw new OAuthError('invalid_request', 'client_id in the body must match the client being updated');
        const secret = param(req.body, 'client_secret');
        if (secret !== undefined && !ctx.clients.secretMatches(client, secret))
          throw new OAuthError('invalid_client_metadata', 'client_secret does not match the current secret');
        const { record, clientSecret } = await ctx.clients.update(client, parseClientMetadata(req.body));
        ctx.audit('client_updated', { clientId: record.clientId, redirectUris: record.redirectUris.join(' ') });
        res
          .status(200)
          .set('Cache-Control', 'no-store')
          .json(
            clientInformationResponse(record, {
              registrationClientUri: registrationClientUri(ctx, record.clientId),
              ...(clientSecret === undefined ? {} : { clientSecret }),
            }),
          );
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        sendOAuthError(res, err);
      }
    },

    async remove(req: Request, res: Response): Promise<void> {
      const client = await authorise(req, res);
      if (!client) return;
      // Revoke first: once the record is gone nothing could find the client's grants by it.
      const revoked = await ctx.families.revokeClient(client.clientId, 'client deleted');
      await ctx.clients.remove(client.clientId);
      ctx.audit('client_deleted', { clientId: client.clientId, revokedGrants: revoked });
      res.status(204).set('Cache-Control', 'no-store').end();
    },
  };
}
