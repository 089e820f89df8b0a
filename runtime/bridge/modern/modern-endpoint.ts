import type { ResponseWatch } from '../../access/tool-gate.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '../../logger.js';
import { isJsonObject, type Envelope, type JsonObject } from '../json-rpc.js';
import { replyEmpty, replyJsonRpcError, replyRaw } from '../json-replies.js';
import type { Acceptable } from '../media-types.js';
import { ModernCall } from './modern-call.js';
import { ModernChild } from './modern-child.js';
import { NativeChild } from './native-child.js';
import { checkModernRequest, type ModernRequest } from './modern-request.js';
import { declaresInput, INPUT_REQUIRED_METHODS } from './modern-protocol.js';
import { discoverResult, responseLine } from './modern-results.js';
import { LISTEN_NEEDS_SSE, openSubscription, parseFilter } from './modern-subscription.js';
import { newCallHandle, paramsDigest, RequestStateSeal } from './request-state.js';
import { UserChildren, type LegacyBackend } from './user-children.js';

export interface ModernEndpointOptions {
  serverName: string;
  /** The 2025 side: a stdio command (stdioBackend) or a remote server (remoteLegacyBackend). */
  backend: LegacyBackend;
  logger: Logger;
  initializeTimeoutMs: number;
  requestTimeoutMs: number;
  maxPerUser: number;
  maxTotal: number;
  idleTimeoutMs: number;
  /** How long a call waits for the client to come back with the input it asked for. */
  inputTtlMs?: number;
}

const DEFAULT_INPUT_TTL_MS = 5 * 60_000;

/** The 2026-07-28 (stateless) side of a stdio server's endpoint; see docs/protocol-eras.md. */
export interface ModernEndpoint {
  /** One POST whose single message `looksModern`; `accept` was checked by the caller. */
  /** `watch`: the tool gate's watch of the answer (gate-screening.ts), if any. */
  handle(req: IncomingMessage, res: ServerResponse, user: string, envelope: Envelope, accept: Acceptable, watch?: ResponseWatch): Promise<void>;
  close(): Promise<void>;
  readonly childCount: number;
}

/**
 * Serves 2026-07-28 clients from 2025 stdio children: checks each request as the spec says
 * (modern-request.ts), answers `server/discover` from a child's initialize result, runs every
 * other request on one of the user's initialized children (user-children.ts), turns the child's
 * sampling, elicitation and roots requests into `input_required` results with a sealed
 * `requestState` (modern-call.ts, request-state.ts), and serves subscriptions/listen.
 */
export function createModernEndpoint(options: ModernEndpointOptions): ModernEndpoint {
  const { serverName, logger, requestTimeoutMs } = options;
  const inputTtlMs = options.inputTtlMs ?? DEFAULT_INPUT_TTL_MS;
  const log = logger.child({ era: '2026-07-28' });
  const seal = new RequestStateSeal(serverName);
  const children = new UserChildren({
    backend: options.backend,
    logger: log,
    initializeTimeoutMs: options.initializeTimeoutMs,
    maxPerUser: options.maxPerUser,
    maxTotal: options.maxTotal,
    idleTimeoutMs: options.idleTimeoutMs,
    reclaim: (user) => {
      // `waiting` keeps insertion order: the first of the user's that waits is the oldest.
      for (const call of waiting.values()) {
        if (call.user !== user || !call.waitingForInput) continue;
        log.info({ user, method: call.method }, 'gave up a call that waited for input, to make room');
        call.cancel('The client did not come back with the input; its server process was needed');
        return true;
      }
      return false;
    },
  });
  /** Calls that may ask for input, by handle: a requestState names one. */
  const waiting = new Map<string, ModernCall>();
  /** The params of each such call; their digest is made only when a state is sealed (most calls never ask). */
  const callParams = new Map<ModernCall, { params: JsonObject; digest?: string }>();
  const closers = new Set<() => void>();

  const hooks = {
    sealState: (call: ModernCall) => {
      const entry = callParams.get(call)!;
      entry.digest ??= paramsDigest(entry.params);
      return seal.seal(call.user, { call: call.handle, method: call.method, params: entry.digest, exp: Date.now() + inputTtlMs });
    },
    ended: (call: ModernCall) => {
      waiting.delete(call.handle);
      callParams.delete(call);
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse, user: string, envelope: Envelope, accept: Acceptable, watch?: ResponseWatch): Promise<void> {
    const checked = checkModernRequest(req, envelope);
    if (!checked.ok) {
      const { status, code, message, data } = checked.refusal;
      watch?.failed(message);
      replyJsonRpcError(res, status, code, message, { id: envelope.kind === 'request' ? envelope.id : null, ...(data === undefined ? {} : { data }) });
      return;
    }
    // No client notification is defined over HTTP in 2026-07-28; accepted and dropped.
    if ('notification' in checked) return replyEmpty(res, 202);
    const { request } = checked;
    if (children.era !== 'legacy') {
      // A server that may speak 2026-07-28 itself: the first child tells (its era probe).
      const acquired = await children.acquire(user, request.clientCapabilities, request.clientInfo, false);
      if (!acquired.ok) {
        watch?.failed(acquired.message);
        return refuse(res, request, acquired.status, ErrorCode.InternalError, acquired.message, refusalHeaders(acquired));
      }
      if (acquired.child instanceof NativeChild) {
        if (request.method === 'subscriptions/listen' && !accept.sse) return refuse(res, request, 406, LISTEN_NEEDS_SSE.code, LISTEN_NEEDS_SSE.message);
        acquired.child.relay(res, accept, request, watch);
        return;
      }
    }
    if (request.params['requestState'] !== undefined) return resume(res, user, request, accept);
    if (request.params['inputResponses'] !== undefined && !INPUT_REQUIRED_METHODS.has(request.method)) {
      return refuse(res, request, 400, ErrorCode.InvalidParams, `Invalid params: inputResponses only go with tools/call, prompts/get or resources/read`);
    }
    if (request.method === 'subscriptions/listen' && !accept.sse) return refuse(res, request, 406, LISTEN_NEEDS_SSE.code, LISTEN_NEEDS_SSE.message);
    const filter = request.method === 'subscriptions/listen' ? parseFilter(request.params) : undefined;
    if (filter !== undefined && !filter.ok) return refuse(res, request, 400, ErrorCode.InvalidParams, filter.message);

    const forInput = INPUT_REQUIRED_METHODS.has(request.method) && declaresInput(request.clientCapabilities);
    const acquired = await children.acquire(user, request.clientCapabilities, request.clientInfo, forInput);
    if (!acquired.ok) {
      watch?.failed(acquired.message);
      return refuse(res, request, acquired.status, ErrorCode.InternalError, acquired.message, refusalHeaders(acquired));
    }
    const { child } = acquired;
    if (!(child instanceof ModernChild)) throw new TypeError('a 2025 server gave a native child');
    if (request.method === 'server/discover') {
      replyRaw(res, 200, responseLine(request.id, { result: discoverResult(child.initializeResult) }));
      return;
    }
    if (filter?.ok) {
      openSubscription({
        res,
        id: request.id,
        filter: filter.filter,
        child,
        listen: (listener) => children.listen(user, listener),
        onClosing: (end) => {
          closers.add(end);
          return () => closers.delete(end);
        },
      });
      return;
    }
    const meta = request.params['_meta'] as JsonObject;
    const progressToken = meta['progressToken'];
    const call = new ModernCall({
      // Only a call that may wait for input is ever named by a requestState (see ModernCall.asked:
      // a client that declared no input gets -32021, never a state), so only it needs a handle.
      handle: forInput ? newCallHandle() : '',
      user,
      method: request.method,
      clientId: request.id,
      progressToken: typeof progressToken === 'string' || typeof progressToken === 'number' ? progressToken : undefined,
      child,
      accept,
      hooks,
      inputTtlMs,
      timeoutMs: requestTimeoutMs,
      clientCapabilities: request.clientCapabilities,
      watch,
    });
    if (forInput) {
      callParams.set(call, { params: request.params });
      waiting.set(call.handle, call);
    }
    call.begin(res, legacyParams(request.params));
  }

  /** A retry with the `requestState` of an input_required result (mrtr.mdx). */
  function resume(res: ServerResponse, user: string, request: ModernRequest, accept: Acceptable): void {
    if (!INPUT_REQUIRED_METHODS.has(request.method)) {
      refuse(res, request, 400, ErrorCode.InvalidParams, 'Invalid params: requestState only goes with tools/call, prompts/get or resources/read');
      return;
    }
    const opened = seal.open(user, request.params['requestState'], request.method, request.params);
    if (!opened.ok) {
      refuse(res, request, 400, ErrorCode.InvalidParams, `Invalid params: ${opened.reason}`);
      return;
    }
    const call = waiting.get(opened.claims.call);
    // Answered already (a replayed state), given up, or from before a restart.
    if (call === undefined || call.user !== user || !call.waitingForInput) {
      refuse(
        res,
        request,
        400,
        ErrorCode.InvalidParams,
        'Invalid params: requestState names a request that is no longer waiting; send it again without requestState',
      );
      return;
    }
    call.resume(res, request.id, accept, request.params['inputResponses']);
  }

  async function close(): Promise<void> {
    for (const end of [...closers]) end();
    for (const call of [...waiting.values()]) call.cancel('The MCP gateway is shutting down');
    await children.close();
  }

  return {
    handle,
    close,
    get childCount() {
      return children.count;
    },
  };
}

/** A refused acquire's headers: Retry-After when it says when, and the backend's own (a challenge). */
function refusalHeaders({ retryAfterS, headers }: { retryAfterS?: string; headers?: Record<string, string> }): Record<string, string> {
  return { ...(retryAfterS === undefined ? {} : { 'Retry-After': retryAfterS }), ...headers };
}

function refuse(res: ServerResponse, request: ModernRequest, status: number, code: number, message: string, headers: Record<string, string> = {}): void {
  replyJsonRpcError(res, status, code, message, { id: request.id, headers });
}

/** The params a 2025 server gets: without the 2026-07-28 fields it would not know. */
function legacyParams(params: JsonObject): JsonObject {
  const { _meta, inputResponses, requestState, ...rest } = params;
  if (!isJsonObject(_meta)) return rest;
  const kept: JsonObject = {};
  for (const [key, value] of Object.entries(_meta)) if (!key.startsWith('io.modelcontextprotocol/')) kept[key] = value;
  return Object.keys(kept).length === 0 ? rest : { ...rest, _meta: kept };
}
