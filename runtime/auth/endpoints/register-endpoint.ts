import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { clientInformationResponse, parseClientMetadata } from '../clients/client-metadata.js';
import { OAuthError, sendOAuthError } from '../oauth-error.js';
import { terminalSafe } from '../../logging/terminal-text.js';

/** How much of a refused registration's reason its audit line keeps. */
const REASON_LIMIT = 300;

export function registrationClientUri(ctx: AuthContext, clientId: string): string {
  return `${ctx.urls.registrationEndpoint}/${encodeURIComponent(clientId)}`;
}

/** POST /register (RFC 7591). Client mistakes are 400 `invalid_client_metadata` / `invalid_redirect_uri`. */
export function registerEndpoint(ctx: AuthContext) {
  return async function register(req: Request, res: Response): Promise<void> {
    try {
      if (!req.is('application/json')) throw new OAuthError('invalid_client_metadata', 'the registration request must be application/json');
      const metadata = parseClientMetadata(req.body);
      const { record, clientSecret, registrationAccessToken } = await ctx.clients.register(metadata);
      ctx.audit('client_registered', { clientId: record.clientId, clientName: record.clientName, redirectUris: record.redirectUris.join(' '), ip: req.ip });
      const body = clientInformationResponse(record, {
        registrationAccessToken,
        registrationClientUri: registrationClientUri(ctx, record.clientId),
        ...(clientSecret === undefined ? {} : { clientSecret }),
      });
      res.status(201).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(body);
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      // The reason can quote what the client sent (a redirect URI): one bounded line, no disguises.
      ctx.audit('client_registration_refused', { error: err.error, reason: terminalSafe(err.description).slice(0, REASON_LIMIT), ip: req.ip });
      sendOAuthError(res, err);
    }
  };
}
