import { escapeHtml } from './html.js';

export interface ConsentPageModel {
  consentId: string;
  csrf: string;
  clientName: string;
  clientId: string;
  redirectUri: string;
  resource: string;
  scope?: string;
  login: string;
}

/** Where the approve button sends the browser: the host people recognise, or the scheme of a native app. */
export function redirectDisplay(redirectUri: string): string {
  const url = new URL(redirectUri);
  return url.host !== '' ? url.host : `${url.protocol}//`;
}

/** The form contract (DESIGN.md): POST, approve is `name="decision" value="approve"`. */
export function consentPageBody(m: ConsentPageModel): string {
  return (
    `<p><strong>${escapeHtml(m.clientName)}</strong> wants to use your MCP servers on this gateway as <strong>${escapeHtml(m.login)}</strong>.</p>` +
    `<dl><dt>Application</dt><dd>${escapeHtml(m.clientName)} <span class="muted">(${escapeHtml(m.clientId)})</span></dd>` +
    `<dt>Returns to</dt><dd>${escapeHtml(redirectDisplay(m.redirectUri))}</dd>` +
    `<dt>Server</dt><dd>${escapeHtml(m.resource)}</dd>` +
    `<dt>Scopes</dt><dd>${escapeHtml(m.scope ?? '(none requested)')}</dd></dl>` +
    `<p class="muted">Only approve if you started this connection yourself. You will not be asked again for this application.</p>` +
    `<form method="post" action="/consent">` +
    `<input type="hidden" name="consent_id" value="${escapeHtml(m.consentId)}">` +
    `<input type="hidden" name="csrf_token" value="${escapeHtml(m.csrf)}">` +
    `<button class="primary" type="submit" name="decision" value="approve">Approve</button>` +
    `<button type="submit" name="decision" value="deny">Deny</button>` +
    `</form>`
  );
}
