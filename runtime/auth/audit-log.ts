import type { Logger } from '../logger.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { RecentAudit } from '../logging/recent-audit.js';

/** The events operators reconstruct a login or a denial from. */
export type AuditEvent =
  | 'client_registered'
  // POST /register answered 400 (invalid_client_metadata, invalid_redirect_uri): `error`, `reason`, `ip`.
  | 'client_registration_refused'
  | 'client_updated'
  | 'client_deleted'
  | 'login_succeeded'
  | 'login_denied'
  | 'consent_granted'
  | 'consent_denied'
  | 'code_issued'
  | 'tokens_issued'
  | 'tokens_refreshed'
  | 'token_refused'
  | 'token_revoked'
  | 'family_revoked'
  | 'access_denied'
  | 'admin_request'
  | 'admin_denied'
  // An admin logged in to the admin page (runtime/auth/admin/admin-login.ts); refusals are admin_denied.
  | 'admin_login'
  // A remote server's own OAuth (servers.NAME.oauth): the browser sent to its consent, back with tokens, refused there; a grant ended.
  | 'upstream_authorization_started'
  | 'upstream_connected'
  | 'upstream_authorization_refused'
  | 'upstream_revoked';

export type AuditLog = (event: AuditEvent, fields?: Record<string, string | number | boolean | undefined>) => void;

/**
 * One JSON line per security-relevant event, marked `audit: true` so it can be filtered out of
 * the rest of the log. Callers pass identifiers (client id, login, resource), never secrets:
 * the logger's redaction is the second line of defence, not the first. `recent` keeps the last
 * events for the admin page.
 */
export function createAuditLog(logger: Logger, metrics?: Pick<GatewayMetrics, 'audited'>, recent?: Pick<RecentAudit, 'record'>): AuditLog {
  const audit = logger.child({ audit: true });
  return (event, fields = {}) => {
    metrics?.audited(event, fields);
    recent?.record(event, fields);
    audit.info({ event, ...fields });
  };
}
