import type { Logger } from '../../logger.js';
import { templateKey, type InitializeTemplate } from '../initialized-child.js';
import { isJsonObject, type JsonObject } from '../json-rpc.js';
import { ModernChild, type ChildNotificationListener, type InitializedPeer } from './modern-child.js';
import { META, FIRST_MODERN_VERSION } from './modern-protocol.js';
import type { NativeChild, ProbeOutcome } from './native-child.js';

/** Where the 2025 peers of 2026-07-28 clients come from: a stdio command, or a remote server. */
export interface LegacyBackend {
  /** A peer initialized with `template`, or why not. */
  start(
    template: InitializeTemplate,
    logger: Logger,
    timeoutMs: number,
    user: string,
  ): Promise<{ ok: true; value: InitializedPeer } | { ok: false; detail: string; refusal?: BackendRefusal }>;
  /** Asks a new peer `server/discover`; absent when the caller knows the server speaks 2025. */
  probeNative?(options: {
    logger: Logger;
    key: string;
    user: string;
    meta: JsonObject;
    timeoutMs: number;
    onExit: (child: NativeChild) => void;
  }): Promise<ProbeOutcome>;
}

/** How the client is answered when the backend refused this user (a remote server with `oauth`: the gateway's 401 challenge), instead of 502. */
export interface BackendRefusal {
  status: number;
  headers: Record<string, string>;
}

/** The version a 2025 child is initialized with for 2026-07-28 clients: the newest it may know. */
const LEGACY_VERSION_FOR_MODERN = '2025-11-25';

export interface UserChildrenOptions {
  backend: LegacyBackend;
  logger: Logger;
  initializeTimeoutMs: number;
  /** Children one user may have at once (calls asking for input each need one of their own). */
  maxPerUser: number;
  /** Children of all users at once (the server's session limit: each is a process like a session's). */
  maxTotal: number;
  idleTimeoutMs: number;
  /**
   * Gives up the user's oldest call that waits for the client's input (a client that never came
   * back holds a child for the whole input TTL); true when one was given up.
   */
  reclaim?: (user: string) => boolean;
}

/** How long the era probe waits for `server/discover` before taking the server for a 2025 one. */
const PROBE_TIMEOUT_MS = 10_000;
/** All of a native server's requests share its children: capabilities come with each request. */
const NATIVE_KEY = 'native';

type UserChild = ModernChild | NativeChild;

const NO_CHILDREN: readonly UserChild[] = [];

export type Acquired = { ok: true; child: UserChild } | { ok: false; status: number; message: string; retryAfterS?: string; headers?: Record<string, string> };

/**
 * The initialized 2025 children that serve 2026-07-28 requests, per user: one user's requests
 * never run on another user's child. A child is initialized with what the client declares it
 * can do (its `clientCapabilities`, as 2025 initialize capabilities), so the server asks only
 * for input the client can give; clients of one user that declare different capabilities get
 * different children.
 */
export class UserChildren {
  readonly #options: UserChildrenOptions;
  readonly #byUser = new Map<string, UserChild[]>();
  readonly #starting = new Map<string, number>();
  /** The start under way per user and child key, for calls that can share the child it makes. */
  readonly #startingChild = new Map<string, Promise<Acquired>>();
  readonly #listeners = new Map<string, Set<ChildNotificationListener>>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;
  /** Which revision the server speaks, from the first probe: kept for the bridge's life. */
  #era: 'unknown' | 'modern' | 'legacy' = 'unknown';

  constructor(options: UserChildrenOptions) {
    this.#options = options;
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(50, Math.min(options.idleTimeoutMs / 2, 30_000)));
    this.#sweeper.unref();
  }

  /** 'modern': the server speaks 2026-07-28 itself (NativeChild); 'legacy': a 2025 server (ModernChild). */
  get era(): 'unknown' | 'modern' | 'legacy' {
    return this.#era;
  }

  get count(): number {
    let n = 0;
    for (const list of this.#byUser.values()) n += list.length;
    return n;
  }

  /**
   * A child for this user and these capabilities: for a call that may ask for input, one with no
   * such call running; otherwise the least loaded. Starts one when none fits and the user has
   * room; else 503 with Retry-After.
   */
  async acquire(user: string, capabilities: JsonObject, clientInfo: JsonObject | undefined, forInput: boolean): Promise<Acquired> {
    const template: InitializeTemplate = {
      protocolVersion: LEGACY_VERSION_FOR_MODERN,
      capabilities: legacyCapabilities(capabilities),
      clientInfo: clientInfo ?? { name: 'mcp-gateway (2026-07-28 client)', version: '1' },
    };
    const key = this.#era === 'modern' ? NATIVE_KEY : templateKey(template)!;
    // One pass, no arrays: this runs on every call of the stateless path.
    let best: UserChild | undefined;
    for (const child of this.#byUser.get(user) ?? NO_CHILDREN) {
      if (!child.alive || child.key !== key || (forInput && !child.takesInputCalls)) continue;
      if (best === undefined || child.load < best.load) best = child;
    }
    if (best !== undefined) return { ok: true, child: best };
    if (this.#closed) return { ok: false, status: 503, message: 'the MCP server is shutting down' };
    // A burst of first calls (8 clients x 4 in flight in bench/) would otherwise start a child per
    // call in flight, each then serving one call at a time: no write batching, a pipe write and a
    // wake-up of its own per call (and at maxPerUser 1, a 503 for the second). Calls that can
    // share a child wait for the one being started instead.
    const startKey = `${user}\n${key}`;
    const underWay = forInput ? undefined : this.#startingChild.get(startKey);
    if (underWay !== undefined) {
      const shared = await underWay;
      return shared.ok && !shared.child.alive ? this.acquire(user, capabilities, clientInfo, forInput) : shared;
    }
    if (this.#held(user) >= this.#options.maxPerUser && !this.#retireIdle(user)) {
      // At the limit with every child busy: a call abandoned while waiting for input frees one.
      if (this.#options.reclaim?.(user)) return this.acquire(user, capabilities, clientInfo, forInput);
      return { ok: false, status: 503, message: 'you have too many requests waiting on this server; retry shortly', retryAfterS: '1' };
    }
    if (this.count + this.#startingTotal() >= this.#options.maxTotal) {
      return { ok: false, status: 503, message: 'this server has too many requests in progress; retry shortly', retryAfterS: '1' };
    }
    this.#starting.set(user, (this.#starting.get(user) ?? 0) + 1);
    const started = this.#start(user, key, template, capabilities);
    const announced = !this.#startingChild.has(startKey);
    if (announced) this.#startingChild.set(startKey, started);
    try {
      return await started;
    } finally {
      if (announced) this.#startingChild.delete(startKey);
      this.#starting.set(user, (this.#starting.get(user) ?? 1) - 1);
    }
  }

  async #start(user: string, key: string, template: InitializeTemplate, capabilities: JsonObject): Promise<Acquired> {
    const { backend, logger, initializeTimeoutMs } = this.#options;
    if (this.#era !== 'legacy' && backend.probeNative !== undefined) {
      const probed = await backend.probeNative({
        logger: logger.child({ user, era: '2026-07-28', native: true }),
        key: NATIVE_KEY,
        user,
        meta: { [META.protocolVersion]: FIRST_MODERN_VERSION, [META.clientCapabilities]: capabilities, [META.clientInfo]: template.clientInfo },
        timeoutMs: Math.min(initializeTimeoutMs, PROBE_TIMEOUT_MS),
        onExit: (gone) => this.#forget(gone),
      });
      if (probed.era === 'failed') return { ok: false, status: 502, message: `the MCP server could not start: ${probed.detail}` };
      if (probed.era === 'modern') {
        if (this.#era === 'unknown') logger.info('the MCP server speaks 2026-07-28 itself: driven natively');
        this.#era = 'modern';
        return this.#adopt(user, probed.child);
      }
      if (this.#era === 'unknown') logger.info('the MCP server speaks 2025: 2026-07-28 requests are translated');
    }
    this.#era = 'legacy';
    const outcome = await backend.start(template, logger.child({ user, era: '2026-07-28' }), initializeTimeoutMs, user);
    if (!outcome.ok) {
      if (outcome.refusal !== undefined) return { ok: false, status: outcome.refusal.status, message: outcome.detail, headers: outcome.refusal.headers };
      return { ok: false, status: 502, message: `the MCP server could not start: ${outcome.detail}` };
    }
    const child = new ModernChild({
      key,
      user,
      initialized: outcome.value,
      logger: logger.child({ user, era: '2026-07-28' }),
      onNotification: (method, params) => {
        for (const listener of this.#listeners.get(user) ?? []) listener(method, params);
      },
      onExit: (gone) => this.#forget(gone),
    });
    return this.#adopt(user, child);
  }

  #adopt(user: string, child: UserChild): Acquired {
    if (this.#closed) {
      void child.terminate();
      return { ok: false, status: 503, message: 'the MCP server is shutting down' };
    }
    this.#byUser.set(user, [...(this.#byUser.get(user) ?? []), child]);
    this.#options.logger.info({ user, pid: child.pid }, 'MCP server started for 2026-07-28 requests');
    return { ok: true, child };
  }

  /** Server notifications (list changes, resource updates) of any of the user's children. */
  listen(user: string, listener: ChildNotificationListener): () => void {
    const set = this.#listeners.get(user) ?? new Set();
    set.add(listener);
    this.#listeners.set(user, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(user);
    };
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    const all = [...this.#byUser.values()].flat();
    this.#byUser.clear();
    await Promise.allSettled(all.map((child) => child.terminate()));
  }

  #startingTotal(): number {
    let n = 0;
    for (const starting of this.#starting.values()) n += starting;
    return n;
  }

  #held(user: string): number {
    return (this.#byUser.get(user)?.length ?? 0) + (this.#starting.get(user) ?? 0);
  }

  /** Makes room for a child of other capabilities by stopping an idle one. */
  #retireIdle(user: string): boolean {
    const idle = (this.#byUser.get(user) ?? []).find((child) => child.load === 0 && child.listeners === 0);
    if (idle === undefined) return false;
    this.#forget(idle);
    void idle.terminate();
    return true;
  }

  #forget(child: UserChild): void {
    const list = this.#byUser.get(child.user);
    if (list === undefined) return;
    const rest = list.filter((other) => other !== child);
    if (rest.length === 0) this.#byUser.delete(child.user);
    else this.#byUser.set(child.user, rest);
  }

  #sweep(): void {
    const now = Date.now();
    for (const child of [...this.#byUser.values()].flat()) {
      if (child.load > 0 || child.listeners > 0 || now - child.lastActive < this.#options.idleTimeoutMs) continue;
      this.#options.logger.info({ user: child.user, pid: child.pid }, 'MCP server idle; stopping it');
      this.#forget(child);
      void child.terminate();
    }
  }
}

/** 2026-07-28 client capabilities as 2025 initialize capabilities: the ones a 2025 server acts on. */
function legacyCapabilities(capabilities: JsonObject): JsonObject {
  const legacy: JsonObject = {};
  for (const name of ['sampling', 'elicitation', 'roots', 'experimental'] as const) {
    if (isJsonObject(capabilities[name])) legacy[name] = capabilities[name];
  }
  return legacy;
}
