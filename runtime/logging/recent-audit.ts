/**
 * The last audit events in memory, for the admin page: the auth runtime's audit log
 * (audit-log.ts) and the bridges' tool-call audit (runtime/access/tool-call-audit.ts) both add to
 * it. A ring of fixed size, so a flood of events costs memory once, never more; the JSON log
 * stays the record, this is only what an operator glances at.
 *
 * Values are kept as the code passed them (cut to a length), control characters included: the
 * page shows them escaped and visibly replaced, so a tool name holding a newline and a forged
 * event stays one cell of one row (log injection).
 */

export type AuditValue = string | number | boolean;

export interface RecentAuditEntry {
  /** ISO 8601. */
  at: string;
  event: string;
  /** The login (else the subject) the event is about, if it names one. */
  user: string | null;
  /** The configured server it concerns, if any. */
  server: string | null;
  /** Every other field of the audit line: identifiers and reasons, never secrets or arguments. */
  fields: Record<string, AuditValue>;
}

export interface RecentAuditFilter {
  /** Exact event name. */
  event?: string | undefined;
  /** Part of the login or subject, case-insensitive. */
  user?: string | undefined;
  /** Exact server name. */
  server?: string | undefined;
}

export interface RecentAudit {
  record(event: string, fields: Readonly<Record<string, unknown>>): void;
  /** Newest first, at most `limit`. */
  list(filter?: RecentAuditFilter, limit?: number): RecentAuditEntry[];
  /** The event names held now, sorted: the page's filter choices. */
  events(): string[];
  readonly size: number;
}

export const RECENT_AUDIT_CAPACITY = 500;
/** A hostile client's 32 KB client_name is not kept 500 times. */
const VALUE_LIMIT = 300;
const FIELD_LIMIT = 24;
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9_]{0,40}$/;
/** Fields that become `user` and `server`, not entries of `fields`. */
const USER_FIELDS = ['login', 'user', 'sub'] as const;

export function createRecentAudit({ capacity = RECENT_AUDIT_CAPACITY, now = Date.now }: { capacity?: number; now?: () => number } = {}): RecentAudit {
  if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError('capacity must be a positive integer');
  const ring: RecentAuditEntry[] = [];
  let next = 0;

  return {
    record(event, raw) {
      const fields: Record<string, AuditValue> = {};
      let count = 0;
      for (const [key, value] of Object.entries(raw)) {
        if (count >= FIELD_LIMIT || key === 'event' || !FIELD_NAME.test(key)) continue;
        const kept = keep(value);
        if (kept === undefined) continue;
        fields[key] = kept;
        count++;
      }
      const userField = USER_FIELDS.find((k) => typeof fields[k] === 'string');
      const user = userField === undefined ? null : String(fields[userField]);
      const server = typeof fields['server'] === 'string' ? fields['server'] : null;
      delete fields['server'];
      if (userField === 'login' || userField === 'user') delete fields[userField];
      const entry: RecentAuditEntry = { at: new Date(now()).toISOString(), event: cut(event), user, server, fields };
      if (ring.length < capacity) ring.push(entry);
      else ring[next] = entry;
      next = (next + 1) % capacity;
    },
    list(filter = {}, limit = capacity) {
      const wantedUser = filter.user?.toLowerCase();
      const out: RecentAuditEntry[] = [];
      for (let i = 1; i <= ring.length && out.length < limit; i++) {
        const entry = ring[(next - i + ring.length * 2) % ring.length]!;
        if (filter.event !== undefined && entry.event !== filter.event) continue;
        if (filter.server !== undefined && entry.server !== filter.server) continue;
        if (wantedUser !== undefined) {
          const sub = typeof entry.fields['sub'] === 'string' ? entry.fields['sub'] : '';
          if (!(entry.user ?? '').toLowerCase().includes(wantedUser) && !sub.toLowerCase().includes(wantedUser)) continue;
        }
        out.push(entry);
      }
      return out;
    },
    events() {
      return [...new Set(ring.map((e) => e.event))].sort();
    },
    get size() {
      return ring.length;
    },
  };
}

function keep(value: unknown): AuditValue | undefined {
  if (typeof value === 'string') return cut(value);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  return undefined;
}

function cut(text: string): string {
  return text.length > VALUE_LIMIT ? `${text.slice(0, VALUE_LIMIT)}…` : text;
}
