import type { Logger } from '../../logger.js';
import type { ChildHandlers } from '../child-process-session.js';
import { isJsonObject, type Envelope, type JsonObject, type RequestId } from '../json-rpc.js';
import { tooLargeErrorLine } from '../oversized-message.js';
import { INPUT_REQUEST_METHODS } from './modern-protocol.js';
import { serverInfoOf } from './modern-results.js';

/** What ModernChild needs of the 2025 server it drives: a stdio child, or a remote server's session. */
export interface LegacyPeer {
  readonly pid: number;
  send(line: string): void;
  terminate(): Promise<unknown>;
  rebind(handlers: ChildHandlers): void;
}

/** A peer that has answered initialize (InitializedChild is one). */
export interface InitializedPeer {
  child: LegacyPeer;
  resultJson: string;
  early: Array<{ envelope: Envelope }>;
}

/** What a ModernChild reports to the call it is running and to the user's subscriptions. */
export interface ChildCall {
  /** A call that may ask for input, of a client that can give some: it needs a child of its own. */
  readonly asksForInput: boolean;
  /** tools/call, prompts/get or resources/read, whatever the client can give. */
  readonly mayAskForInput: boolean;
  readonly progressToken: RequestId | undefined;
  /** `line` is the child's answer as it sent it, when there is one (spliced rather than re-serialised). */
  answered(response: JsonObject, line?: string): void;
  /** The child asked the client something (sampling, elicitation, roots) during this call. */
  asked(id: RequestId, method: string, params: JsonObject): void;
  progress(params: JsonObject): void;
  childGone(message: string): void;
}

export type ChildNotificationListener = (method: string, params: JsonObject) => void;

/**
 * One initialized 2025 stdio child serving a user's 2026-07-28 requests. Requests reach it
 * under ids of the gateway's own (a stateless client's ids are unique only to that client's
 * request, and several clients of one user share the child), and their progress tokens too.
 *
 * stdio carries no link between a server's request and the call it is about, so a child runs at
 * most one call that may ask for input (tools/call, prompts/get, resources/read of a client that
 * declared sampling, elicitation or roots) at a time (UserChildren hands such calls only to a
 * child with none): a sampling, elicitation or roots request from the child then belongs to that
 * call. Everything else shares the child freely: lists, completions, and the calls of clients
 * that declared no input, which a child initialized without those capabilities has no reason to
 * ask (if one asks anyway, the only call in flight gets -32021; with several, the child gets an
 * error).
 */
export class ModernChild {
  readonly key: string;
  readonly user: string;
  readonly initializeResult: JsonObject;
  readonly serverInfo: JsonObject | undefined;
  /** serverInfo as JSON, for every result spliced from the child's lines. */
  readonly serverInfoJson: string | undefined;
  lastActive = Date.now();
  /** subscriptions/listen streams using this child: it is not idle while they are open. */
  listeners = 0;
  readonly #child: LegacyPeer;
  readonly #log: Logger;
  readonly #calls = new Map<string, ChildCall>();
  readonly #byProgressToken = new Map<string, ChildCall>();
  readonly #onNotification: ChildNotificationListener;
  #nextId = 0;
  #inputCalls = 0;
  #alive = true;

  constructor(options: {
    key: string;
    user: string;
    initialized: InitializedPeer;
    logger: Logger;
    onNotification: ChildNotificationListener;
    onExit: (child: ModernChild) => void;
  }) {
    const { initialized } = options;
    this.key = options.key;
    this.user = options.user;
    this.initializeResult = JSON.parse(initialized.resultJson) as JsonObject;
    this.serverInfo = serverInfoOf(this.initializeResult);
    this.serverInfoJson = this.serverInfo === undefined ? undefined : JSON.stringify(this.serverInfo);
    this.#child = initialized.child;
    this.#log = options.logger;
    this.#onNotification = options.onNotification;
    initialized.child.rebind({
      logger: this.#log,
      onMessage: (envelope, line) => this.#fromChild(envelope, line),
      onOversized: ({ id, hasMethod, limit }) => {
        if (hasMethod && id !== undefined) this.#child.send(tooLargeErrorLine(id, 'the request', limit));
        else if (!hasMethod && id !== undefined) {
          // As if the child had answered with the error (the line was skipped unread).
          const line = tooLargeErrorLine(id, "the server's response", limit);
          this.#fromChild({ kind: 'response', id, value: JSON.parse(line) as JsonObject });
        }
      },
      onClose: (exit) => {
        this.#alive = false;
        const how = exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`;
        for (const call of this.#calls.values()) call.childGone(`MCP server process exited (${how})`);
        this.#calls.clear();
        options.onExit(this);
      },
    });
    for (const { envelope } of initialized.early) this.#fromChild(envelope);
  }

  get alive(): boolean {
    return this.#alive;
  }

  get pid(): number {
    return this.#child.pid;
  }

  /** Calls in flight; with no listener either, the child is idle. */
  get load(): number {
    return this.#calls.size;
  }

  /** Whether a call that may ask for input can run here now (see the class comment). */
  get takesInputCalls(): boolean {
    return this.#alive && this.#inputCalls === 0;
  }

  /**
   * Sends a client request to the child under a gateway id; returns that id, which
   * `cancel` and the call's answers use. `params` go as given (the caller has taken out the
   * 2026-07-28 fields a 2025 server would not know).
   */
  start(call: ChildCall, method: string, params: JsonObject): string {
    const id = `mcpgw-${++this.#nextId}`;
    this.#calls.set(id, call);
    if (call.asksForInput) this.#inputCalls++;
    let sent = params;
    if (call.progressToken !== undefined) {
      // The gateway's own token: two clients of one user may both use "1".
      this.#byProgressToken.set(id, call);
      const meta = isJsonObject(params['_meta']) ? params['_meta'] : {};
      sent = { ...params, _meta: { ...meta, progressToken: id } };
    }
    this.lastActive = Date.now();
    // The text JSON.stringify gives the whole message, without building it first (every call of
    // the stateless path comes here); `id` is the gateway's own `mcpgw-N`, which needs no escapes.
    this.#child.send(`{"jsonrpc":"2.0","id":"${id}","method":${JSON.stringify(method)},"params":${JSON.stringify(sent)}}`);
    return id;
  }

  /** The call ended without the child's answer (the client left, a timeout): tell the child to stop. */
  cancel(id: string, reason: string): void {
    if (!this.#finish(id)) return;
    this.#child.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } }));
  }

  /** The client's answer to a request of the child. */
  answer(childRequestId: RequestId, body: { result: unknown } | { error: JsonObject }): void {
    this.lastActive = Date.now();
    this.#child.send(JSON.stringify({ jsonrpc: '2.0', id: childRequestId, ...body }));
  }

  /** A request of the gateway's own (resources/subscribe for a subscription); its answer is dropped. */
  notifyChild(method: string, params: JsonObject): void {
    this.#child.send(JSON.stringify({ jsonrpc: '2.0', id: `mcpgw-own-${++this.#nextId}`, method, params }));
  }

  terminate(): Promise<unknown> {
    return this.#child.terminate();
  }

  #finish(id: string): boolean {
    const call = this.#calls.get(id);
    if (call === undefined) return false;
    this.#calls.delete(id);
    this.#byProgressToken.delete(id);
    if (call.asksForInput) this.#inputCalls--;
    this.lastActive = Date.now();
    return true;
  }

  #fromChild(envelope: Envelope, line?: string): void {
    if (envelope.kind === 'response') {
      const id = envelope.id === null ? undefined : String(envelope.id);
      const call = id === undefined ? undefined : this.#calls.get(id);
      if (call === undefined || id === undefined) return; // ours (resources/subscribe), or the client left
      this.#finish(id);
      call.answered(envelope.value, line);
      return;
    }
    const params = isJsonObject(envelope.value['params']) ? envelope.value['params'] : {};
    if (envelope.kind === 'request') {
      this.#childRequest(envelope.id, envelope.method, params);
      return;
    }
    if (envelope.method === 'notifications/progress') {
      const token = params['progressToken'];
      this.#byProgressToken.get(String(token))?.progress(params);
      return;
    }
    this.#onNotification(envelope.method, params);
  }

  #childRequest(id: RequestId, method: string, params: JsonObject): void {
    if (method === 'ping') {
      this.answer(id, { result: {} });
      return;
    }
    if (!INPUT_REQUEST_METHODS.has(method)) {
      this.answer(id, { error: { code: -32601, message: `Method not found: the gateway does not relay ${method} to 2026-07-28 clients` } });
      return;
    }
    // The call that runs alone on this child as one that may ask; else, with exactly one call in
    // flight, that one (a client that declared no input: it gets -32021, not a stuck call).
    const calls = [...this.#calls.values()];
    const asking = calls.find((call) => call.asksForInput) ?? (calls.length === 1 && calls[0]!.mayAskForInput ? calls[0] : undefined);
    if (asking === undefined) {
      // Roots asked for at start-up, say: a 2026-07-28 client can only answer within a call.
      this.#log.debug({ method }, 'child asked for input outside a call; refused');
      this.answer(id, {
        error: { code: -32603, message: `${method} can only be answered during a tools/call, prompts/get or resources/read of a 2026-07-28 client` },
      });
      return;
    }
    asking.asked(id, method, params);
  }
}
