import { escapeHtml } from './html.js';

export interface ConsentPageModel {
  consentId: string;
  csrf: string;
  clientName: string;
  clientId: string;
  redirectUri: string;
  resource: string;
  /** The server's name in the gateway's config (the resource URL when it has none). */
  serverName: string;
  scope?: string;
  login: string;
}

/**
 * Where the approve button sends the browser: the host people recognise (with its port, so two
 * loopback apps are told apart), or the scheme of a native app (`cursor://`), whose "host" is
 * whatever the app chose and says nothing about who receives the code.
 */
export function redirectDisplay(redirectUri: string): string {
  const url = new URL(redirectUri);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol}//`;
  return url.host !== '' ? url.host : `${url.protocol}//`;
}

/**
 * The form contract (DESIGN.md): POST, approve is `name="decision" value="approve"`. The page
 * names what the approval is remembered for (consents.ts): application, where it returns to,
 * server and scopes; a request outside that asks again.
 */
export function consentPageBody(m: ConsentPageModel): string {
  const returnsTo = redirectDisplay(m.redirectUri);
  return (
    `<p><strong>${escapeHtml(m.clientName)}</strong> wants to use the MCP server <strong>${escapeHtml(m.serverName)}</strong> on this gateway as <strong>${escapeHtml(m.login)}</strong>, and will receive access at <strong>${escapeHtml(returnsTo)}</strong>.</p>` +
    `<dl><dt>Application</dt><dd>${escapeHtml(m.clientName)} <span class="muted">(${escapeHtml(m.clientId)})</span></dd>` +
    `<dt>Returns to</dt><dd><strong>${escapeHtml(returnsTo)}</strong> <span class="muted">(${escapeHtml(m.redirectUri)})</span></dd>` +
    `<dt>Server</dt><dd><strong>${escapeHtml(m.serverName)}</strong> <span class="muted">(${escapeHtml(m.resource)})</span></dd>` +
    `<dt>Scopes</dt><dd>${escapeHtml(m.scope ?? '(none: this server defines no scopes)')}</dd></dl>` +
    `<p class="muted">Only approve if you started this connection yourself and you recognise where it returns to. You will not be asked again for this application, return address, server and scopes.</p>` +
    `<form method="post" action="/consent">` +
    `<input type="hidden" name="consent_id" value="${escapeHtml(m.consentId)}">` +
    `<input type="hidden" name="csrf_token" value="${escapeHtml(m.csrf)}">` +
    `<button class="primary" type="submit" name="decision" value="approve">Approve</button>` +
    `<button type="submit" name="decision" value="deny">Deny</button>` +
    `</form>`
  );
}
