import { createHash } from 'node:crypto';
import type { Response } from 'express';
import type { AdminView } from '../admin/admin-status.js';
import { NO_METRICS_NOTE, NO_SERVERS_NOTE, sessionsPerUser } from '../admin/admin-status.js';
import type { RecentAuditEntry, RecentAuditFilter } from '../../logging/recent-audit.js';
import type { GrantSummary } from '../admin/admin-types.js';
import { formatDurationMs as duration, type Percentiles } from '../../metrics/metrics-summary.js';
import { escapeHtml } from './html.js';

/**
 * The admin page as HTML strings, no scripts. Everything shown that a client, a user or a
 * server chose (client names, logins, tool names, audit fields) goes through `shown`: escaped,
 * and with control, format (bidi, zero-width) and line-separator characters replaced by a
 * visible `[U+202E]`, so "Claude\u202Egpj.exe" cannot read as something else and a newline in
 * a tool name cannot start what looks like another audit row.
 */

const STYLE = `body{font-family:system-ui,sans-serif;background:#f6f7f9;color:#1b1f24;margin:0;font-size:14px}
header{background:#1b1f24;color:#fff;padding:.7rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
header h1{font-size:1.1rem;margin:0}header form{display:inline}header button{background:transparent;color:#fff;border-color:#fff}
main{max-width:78rem;margin:1rem auto;padding:0 1.5rem}
section{background:#fff;border-radius:10px;box-shadow:0 1px 4px #0002;padding:.8rem 1.2rem;margin-bottom:1rem;overflow-x:auto}
h2{font-size:1rem;margin:.2rem 0 .6rem}h3{font-size:.9rem;margin:.8rem 0 .3rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{color:#57606a;font-weight:600}td.wrap{word-break:break-all}td.time{white-space:nowrap}code{font-size:.85em}
.muted{color:#57606a}.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #e4e7eb;border-radius:8px;padding:.5rem .9rem;min-width:9rem}
.card b{display:block;font-size:1.3rem}.notice{background:#dafbe1;border:1px solid #1a7f37;border-radius:8px;padding:.5rem .9rem;margin-bottom:1rem}
.note{background:#fff8c5;border:1px solid #d4a72c;border-radius:8px;padding:.5rem .9rem}
button{font-size:.85rem;padding:.25rem .7rem;border-radius:6px;border:1px solid #1b1f24;background:#fff;cursor:pointer}
button.danger{border-color:#cf222e;color:#cf222e}a.button{display:inline-block;background:#1f6feb;color:#fff;padding:.5rem 1rem;border-radius:8px;text-decoration:none}
form.inline{display:inline}form.filters{display:flex;gap:.6rem;align-items:end;flex-wrap:wrap;margin-bottom:.6rem}
label{display:flex;flex-direction:column;font-size:.8rem;color:#57606a}input,select{font-size:.9rem;padding:.2rem}
.center{max-width:30rem;margin:4rem auto}`;

/** CSP `style-src` names this one stylesheet by its hash: no inline style anyone else wrote can apply. */
const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export const ADMIN_PAGE_CSP = `default-src 'none'; style-src ${STYLE_HASH}; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;

/** The headers of every admin page response, HTML or not. */
export const ADMIN_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': ADMIN_PAGE_CSP,
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

/** A string someone else chose, as HTML text. */
export function shown(text: string, max = 200): string {
  const visible = text.replace(UNSAFE, (c) => `[U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`);
  return escapeHtml(visible.length > max ? `${visible.slice(0, max - 1)}…` : visible);
}

export function sendAdminHtml(res: Response, status: number, title: string, body: string, head = ''): void {
  res
    .status(status)
    .set({ ...ADMIN_PAGE_HEADERS, 'Content-Type': 'text/html; charset=utf-8' })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">${head}` +
        `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head><body>${body}</body></html>`,
    );
}

/** A page with one message (login, refusals, errors). */
export function sendAdminMessage(res: Response, status: number, title: string, message: string, extra = ''): void {
  sendAdminHtml(res, status, title, `<main class="center"><section><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${extra}</section></main>`);
}

export function loginPageBody(provider: string): string {
  return `<p><a class="button" href="/admin/login">Log in with ${escapeHtml(provider)}</a></p><p class="muted">Only the users listed under <code>admins:</code> in the gateway's config get in.</p>`;
}

/** After the login: a same-site navigation, so the SameSite=Strict session cookie goes with it. */
export function sendLoggedIn(res: Response): void {
  sendAdminHtml(
    res,
    200,
    'Logged in',
    `<main class="center"><section><h1>Logged in</h1><p><a class="button" href="/admin/">Continue to the admin page</a></p></section></main>`,
    '<meta http-equiv="refresh" content="0;url=/admin/">',
  );
}

export interface DashboardModel {
  admin: string;
  csrf: string;
  view: AdminView;
  audit: RecentAuditEntry[];
  auditFilter: RecentAuditFilter;
  /** Event names to filter by. */
  auditEvents: string[];
  serverNames: readonly string[];
  notice?: string | undefined;
}

export function dashboardBody(m: DashboardModel): string {
  const names = new Map(m.view.clients.map((c) => [c.clientId, c.clientName]));
  return (
    `<header><h1>mcp-gateway admin</h1><div>${shown(m.admin)} ${actionForm(m.csrf, '/admin/logout', {}, 'Log out')}</div></header><main>` +
    (m.notice === undefined ? '' : `<div class="notice" role="status">${escapeHtml(m.notice)}</div>`) +
    metricsSection(m.view) +
    serversSection(m.view) +
    sessionsSection(m) +
    clientsSection(m) +
    grantsSection(m, names) +
    auditSection(m) +
    `<p class="muted">As of ${escapeHtml(m.view.generatedAt)}. Reload the page for fresh figures.</p></main>`
  );
}

function metricsSection(view: AdminView): string {
  const metrics = view.metrics;
  if (metrics === null) return `<section id="metrics"><h2>Metrics</h2><p class="note">${escapeHtml(NO_METRICS_NOTE)}</p></section>`;
  const card = (label: string, value: string): string => `<div class="card"><span class="muted">${label}</span><b>${escapeHtml(value)}</b></div>`;
  const pair = (p: Percentiles): string => `${duration(p.p50)} / ${duration(p.p99)}`;
  return (
    `<section id="metrics"><h2>Metrics <span class="muted">(last ${metrics.windowSeconds} s)</span></h2><div class="cards">` +
    card('tool calls / s', String(metrics.callsPerSecond)) +
    card('tool calls', String(metrics.toolCalls)) +
    card('tool call p50 / p99', pair(metrics.toolCallMs)) +
    card('gateway overhead p50 / p99', pair(metrics.overheadMs)) +
    `</div></section>`
  );
}

function serversSection(view: AdminView): string {
  if (view.servers === null) return `<section id="servers"><h2>Servers</h2><p class="note">${escapeHtml(NO_SERVERS_NOTE)}</p></section>`;
  if (view.servers.length === 0) return `<section id="servers"><h2>Servers</h2><p class="muted">No servers configured.</p></section>`;
  const rows = view.servers.map(
    (s) =>
      `<tr><td>${shown(s.name)}</td><td>${s.healthy ? '<span class="ok">healthy</span>' : `<span class="bad">unhealthy</span> ${shown(s.reason ?? '', 400)}`}</td><td>${s.sessions.length}</td></tr>`,
  );
  return `<section id="servers"><h2>Servers</h2><table><thead><tr><th>Server</th><th>Health</th><th>Sessions</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function sessionsSection(m: DashboardModel): string {
  const servers = m.view.servers;
  if (servers === null) return `<section id="sessions"><h2>Live sessions</h2><p class="note">${escapeHtml(NO_SERVERS_NOTE)}</p></section>`;
  const parts = servers
    .filter((s) => s.sessions.length > 0)
    .map((s) => {
      const perUser = sessionsPerUser(s.sessions)
        .map((u) => `${shown(u.login)} (${u.sessions})`)
        .join(', ');
      const rows = s.sessions.map(
        (session) =>
          `<tr><td>${shown(session.login)} <span class="muted">${shown(session.sub)}</span></td><td><code>${shown(session.id.slice(0, 12))}…</code></td>` +
          `<td>${time(session.startedAt)}</td><td>${time(session.lastActive)}</td>` +
          `<td>${actionForm(m.csrf, '/admin/actions/end-session', { server: s.name, session: session.id }, 'End', true)}</td></tr>`,
      );
      return (
        `<h3>${shown(s.name)} <span class="muted">${perUser}</span></h3>` +
        `<table><thead><tr><th>User</th><th>Session</th><th>Started</th><th>Last active</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`
      );
    });
  return `<section id="sessions"><h2>Live sessions</h2>${parts.length === 0 ? '<p class="muted">No live sessions.</p>' : parts.join('')}</section>`;
}

/** Rows beyond these are left to the CLI (`clients list`, `tokens list`): the page stays small. */
const MAX_ROWS = 300;

function clientsSection(m: DashboardModel): string {
  const clients = m.view.clients;
  if (clients.length === 0) return `<section id="clients"><h2>Registered clients</h2><p class="muted">No registered clients.</p></section>`;
  const rows = clients
    .slice(0, MAX_ROWS)
    .map(
      (c) =>
        `<tr><td>${c.clientName === null ? '<span class="muted">(no name)</span>' : shown(c.clientName)}</td><td class="wrap"><code>${shown(c.clientId)}</code></td>` +
        `<td>${iso(c.registeredAt)}</td><td>${iso(c.lastUsedAt)}</td><td>${c.activeGrants}</td><td class="wrap">${c.redirectUris.map((u) => shown(u, 300)).join('<br>')}</td>` +
        `<td>${actionForm(m.csrf, '/admin/actions/remove-client', { client: c.clientId }, 'Remove', true)}</td></tr>`,
    );
  return (
    `<section id="clients"><h2>Registered clients <span class="muted">(${clients.length})</span></h2>` +
    `<p class="muted">Removing a client revokes its grants; the application registers again on its next connection.</p>` +
    `<table><thead><tr><th>Name</th><th>Client ID</th><th>Registered</th><th>Last used</th><th>Grants</th><th>Redirect URIs</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
    more(clients.length, 'mcp-gateway clients list') +
    `</section>`
  );
}

function grantsSection(m: DashboardModel, names: ReadonlyMap<string, string | null>): string {
  const active = m.view.grants.filter((g) => !g.revoked);
  const revoked = m.view.grants.length - active.length;
  const header = `<section id="grants"><h2>Grants <span class="muted">(${active.length} active, ${revoked} revoked)</span></h2>`;
  if (active.length === 0) return `${header}<p class="muted">No active grants.</p></section>`;
  const byUser = new Map<string, GrantSummary[]>();
  for (const g of active.slice(0, MAX_ROWS)) {
    const key = g.sub ?? g.user ?? '?';
    byUser.set(key, [...(byUser.get(key) ?? []), g]);
  }
  const parts = [...byUser].map(([sub, grants]) => {
    const rows = grants.map((g) => {
      const name = g.clientId === null ? undefined : names.get(g.clientId);
      return (
        `<tr><td>${name ? shown(name) : '<span class="muted">(unknown client)</span>'} <span class="muted">${shown(g.clientId ?? '')}</span></td>` +
        `<td class="wrap">${shown(g.resource ?? '-', 300)}</td><td>${shown(g.scope ?? '-')}</td><td>${iso(g.createdAt)}</td><td>${iso(g.lastRefreshedAt)}</td>` +
        `<td>${actionForm(m.csrf, '/admin/actions/revoke-grants', { family: g.familyId }, 'Revoke', true)}</td></tr>`
      );
    });
    const login = grants[0]!.user ?? sub;
    return (
      `<h3>${shown(login)} <span class="muted">${shown(sub)}</span> ${actionForm(m.csrf, '/admin/actions/revoke-grants', { user: sub }, `Revoke all ${grants.length}`, true)}</h3>` +
      `<table><thead><tr><th>Client</th><th>Resource</th><th>Scope</th><th>Created</th><th>Last refreshed</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`
    );
  });
  return `${header}${parts.join('')}${more(active.length, 'mcp-gateway tokens list')}</section>`;
}

function auditSection(m: DashboardModel): string {
  const f = m.auditFilter;
  const option = (value: string, selected: string | undefined): string =>
    `<option value="${escapeHtml(value)}"${value === selected ? ' selected' : ''}>${shown(value)}</option>`;
  const filters =
    `<form class="filters" method="get" action="/admin/">` +
    `<label>Event<select name="event"><option value="">any</option>${m.auditEvents.map((e) => option(e, f.event)).join('')}</select></label>` +
    `<label>User<input name="user" maxlength="100" value="${escapeHtml(f.user ?? '')}"></label>` +
    `<label>Server<select name="server"><option value="">any</option>${m.serverNames.map((s) => option(s, f.server)).join('')}</select></label>` +
    `<button type="submit">Filter</button></form>`;
  const rows = m.audit.map(
    (e) =>
      `<tr><td class="time">${escapeHtml(e.at.replace(/\.\d{3}Z$/, 'Z').replace('T', ' '))}</td><td>${shown(e.event)}</td><td>${shown(e.user ?? '')}</td><td>${shown(e.server ?? '')}</td>` +
      `<td class="wrap">${Object.entries(e.fields)
        .map(([k, v]) => `<span class="muted">${shown(k)}=</span>${shown(String(v))}`)
        .join(' ')}</td></tr>`,
  );
  return (
    `<section id="audit"><h2>Recent audit events <span class="muted">(newest first, ${m.audit.length} shown)</span></h2>${filters}` +
    (rows.length === 0
      ? '<p class="muted">No events match.</p>'
      : `<table><thead><tr><th>Time</th><th>Event</th><th>User</th><th>Server</th><th>Details</th></tr></thead><tbody>${rows.join('')}</tbody></table>`) +
    `</section>`
  );
}

/** Every state change: a POST form with the session's CSRF token. */
function actionForm(csrf: string, action: string, fields: Record<string, string>, label: string, danger = false): string {
  const hidden = Object.entries({ csrf, ...fields })
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  return `<form class="inline" method="post" action="${escapeHtml(action)}">${hidden}<button type="submit"${danger ? ' class="danger"' : ''}>${escapeHtml(label)}</button></form>`;
}

function more(total: number, command: string): string {
  return total > MAX_ROWS ? `<p class="muted">and ${total - MAX_ROWS} more: see <code>${escapeHtml(command)}</code></p>` : '';
}

function time(ms: number): string {
  return iso(new Date(ms).toISOString());
}

function iso(value: string | null): string {
  return value === null ? '<span class="muted">-</span>' : escapeHtml(value.replace(/\.\d{3}Z$/, 'Z').replace('T', ' '));
}
