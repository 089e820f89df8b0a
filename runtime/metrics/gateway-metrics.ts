import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The label a tool gets before its server listed it, and past the per-server cap: hostile names never become series. */
export const OTHER_TOOL = '_other';
/** Tools per server that get a label of their own; a server listing more shares `_other` for the rest. */
const TOOLS_PER_SERVER = 500;
/** Servers a gateway reports on: configured names only, so bounded by the config. */
type ServerSource = () => ReadonlyMap<string, { readonly sessionCount: number; readonly childCount: number }>;
/*
 * The metrics name what they count in words of their own (outcomes, audit events as strings):
 * runtime/metrics is used by access, auth and bridge, so it imports none of them.
 */
type ToolCallOutcome = 'ok' | 'error' | 'denied' | 'limited';

/** Seconds; tool calls range from a cached lookup to a minute-long job. */
const CALL_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Seconds; what the gateway itself adds is tens of microseconds to a few milliseconds. */
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

/** Auth decisions read off the audit log (audit-log.ts): endpoint and decision by event. */
const AUDIT_DECISIONS: Readonly<Record<string, [endpoint: string, decision: string]>> = {
  tokens_issued: ['token', 'issued'],
  tokens_refreshed: ['token', 'issued'],
  token_refused: ['token', 'refused'],
  login_succeeded: ['login', 'allowed'],
  login_denied: ['login', 'denied'],
  consent_granted: ['consent', 'granted'],
  consent_denied: ['consent', 'denied'],
  admin_request: ['admin', 'allowed'],
  admin_denied: ['admin', 'denied'],
};

/** OAuth error codes a refused refresh can carry (token-endpoint.ts); anything else is `error`. */
const REFRESH_OUTCOMES = new Set(['invalid_grant', 'invalid_client', 'invalid_request', 'invalid_scope', 'invalid_target', 'unauthorized_client']);

/** ForwardAuth answers (verify-request.ts) by status. */
const VERIFY_DECISIONS: Readonly<Record<number, string>> = {
  200: 'allowed',
  400: 'invalid',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  503: 'unavailable',
};

/**
 * The gateway's Prometheus metrics (prom-client), one registry per gateway so that two in one
 * process (tests, `serve` with its metrics listener) never share counts. Everything on the
 * per-call path is a cached child's `inc`/`observe`: no label hashing per call.
 *
 * Label values are bounded: routes by a fixed table (http-routes.ts), servers by the config,
 * tools by what each server listed itself (learnTools), outcomes and decisions by the code.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #http: Counter<'route' | 'status'>;
  readonly #toolCalls: Counter<'server' | 'tool' | 'outcome'>;
  readonly #toolDuration: Histogram<'server'>;
  readonly #overhead: Histogram;
  readonly #authDecisions: Counter<'endpoint' | 'decision'>;
  readonly #refreshes: Counter<'outcome'>;
  readonly #storeErrors: Counter;
  /** Label children by key, so the per-call path does no label hashing. */
  readonly #counters = new Map<string, Counter.Internal>();
  readonly #durations = new Map<string, Histogram.Internal<'server'>>();
  readonly #knownTools = new Map<string, Set<string>>();
  #servers: ServerSource = () => new Map();

  constructor({ defaults = true }: { defaults?: boolean } = {}) {
    const registers = [this.registry];
    this.#http = new Counter({
      name: 'mcp_gateway_http_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['route', 'status'],
      registers,
    });
    this.#toolCalls = new Counter({
      name: 'mcp_gateway_tool_calls_total',
      help: 'tools/call requests by server, tool (as the server lists it, else _other) and outcome (ok, error, denied, limited)',
      labelNames: ['server', 'tool', 'outcome'],
      registers,
    });
    this.#toolDuration = new Histogram({
      name: 'mcp_gateway_tool_call_duration_seconds',
      help: 'Time from forwarding a tools/call to the server until its answer',
      labelNames: ['server'],
      buckets: CALL_BUCKETS,
      registers,
    });
    this.#overhead = new Histogram({
      name: 'mcp_gateway_gateway_overhead_seconds',
      help: 'Time a tools/call request spent in the gateway (router, token check, bridge), the server or upstream excluded',
      buckets: OVERHEAD_BUCKETS,
      registers,
    });
    this.#authDecisions = new Counter({
      name: 'mcp_gateway_auth_decisions_total',
      help: 'Decisions of the authorization server: verify (each MCP request), token, login, consent, admin',
      labelNames: ['endpoint', 'decision'],
      registers,
    });
    this.#refreshes = new Counter({
      name: 'mcp_gateway_token_refreshes_total',
      help: 'Refresh token grants by outcome (ok or the OAuth error)',
      labelNames: ['outcome'],
      registers,
    });
    this.#storeErrors = new Counter({
      name: 'mcp_gateway_store_errors_total',
      help: 'Store operations that failed because the store was unreachable',
      registers,
    });
    const servers = () => this.#servers();
    new Gauge({
      name: 'mcp_gateway_sessions',
      help: 'Live MCP sessions per server',
      labelNames: ['server'],
      registers,
      collect() {
        for (const [name, bridge] of servers()) this.set({ server: name }, bridge.sessionCount);
      },
    });
    new Gauge({
      name: 'mcp_gateway_children',
      help: 'Server processes running per server (sessions, warm pool, 2026-07-28 per-user children)',
      labelNames: ['server'],
      registers,
      collect() {
        for (const [name, bridge] of servers()) this.set({ server: name }, bridge.childCount);
      },
    });
    if (defaults) collectDefaultMetrics({ register: this.registry });
  }

  /** Where the session and child gauges read from: the running bridges (replaced on reload). */
  watchServers(source: ServerSource): void {
    this.#servers = source;
  }

  #counter(key: string, make: () => Counter.Internal): Counter.Internal {
    let child = this.#counters.get(key);
    if (child === undefined) this.#counters.set(key, (child = make()));
    return child;
  }

  httpRequest(route: string, status: number | 'aborted'): void {
    this.#counter(`h ${route} ${status}`, () => this.#http.labels(route, String(status))).inc();
  }

  /** The names a server listed in tools/list: from then on each is a label of its own. */
  learnTools(server: string, names: readonly string[]): void {
    let known = this.#knownTools.get(server);
    if (known === undefined) this.#knownTools.set(server, (known = new Set()));
    for (const name of names) {
      if (known.size >= TOOLS_PER_SERVER) break;
      known.add(name);
    }
  }

  toolLabel(server: string, tool: string): string {
    return this.#knownTools.get(server)?.has(tool) === true ? tool : OTHER_TOOL;
  }

  toolCall(server: string, tool: string, outcome: ToolCallOutcome, durationMs: number): void {
    const label = this.toolLabel(server, tool);
    this.#counter(`t ${server} ${outcome} ${label}`, () => this.#toolCalls.labels(server, label, outcome)).inc();
    // Refused calls never reached the server: no duration of the server's to report.
    if (outcome !== 'ok' && outcome !== 'error') return;
    let duration = this.#durations.get(server);
    if (duration === undefined) this.#durations.set(server, (duration = this.#toolDuration.labels(server)));
    duration.observe(durationMs / 1000);
  }

  overhead(seconds: number): void {
    this.#overhead.observe(seconds);
  }

  verifyDecision(status: number): void {
    const decision = VERIFY_DECISIONS[status] ?? 'error';
    this.#counter(`a verify ${decision}`, () => this.#authDecisions.labels('verify', decision)).inc();
  }

  /** One audit event of the authorization server: its decision and refresh outcome, if it has one. */
  audited(event: string, fields: Readonly<Record<string, unknown>>): void {
    const decision = AUDIT_DECISIONS[event];
    if (decision !== undefined) this.#counter(`a ${decision[0]} ${decision[1]}`, () => this.#authDecisions.labels(decision[0], decision[1])).inc();
    if (event === 'tokens_refreshed') this.#refreshes.inc({ outcome: 'ok' });
    else if (event === 'token_refused' && fields['grantType'] === 'refresh_token') {
      const error = fields['error'];
      this.#refreshes.inc({ outcome: typeof error === 'string' && REFRESH_OUTCOMES.has(error) ? error : 'error' });
    }
  }

  storeError(): void {
    this.#storeErrors.inc();
  }

  /** The text format Prometheus scrapes. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
