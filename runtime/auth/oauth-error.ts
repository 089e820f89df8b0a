import type { Response } from 'express';

/** RFC 6749 §5.2 / RFC 7591 §3.2.2 / RFC 8707 error codes the gateway uses. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_token';

/** A protocol error caused by the client's request: always a 4xx (or the status given), never a crash. */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status: number = error === 'invalid_client' ? 401 : 400,
  ) {
    super(description);
  }

  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

export function sendOAuthError(res: Response, err: OAuthError): void {
  res.status(err.status).set('Cache-Control', 'no-store').json(err.toJSON());
}
