import type { ServerResponse } from 'node:http';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { isJsonObject, type JsonObject, type RequestId } from '../json-rpc.js';
import { SseStream } from '../sse-stream.js';
import type { ModernChild } from './modern-child.js';
import { META } from './modern-protocol.js';

const MAX_RESOURCE_SUBSCRIPTIONS = 100;
const MAX_URI_CHARS = 2048;
const KEEPALIVE_MS = 25_000;
const TICK_MS = 1_000;

export interface SubscriptionFilter {
  toolsListChanged?: boolean;
  promptsListChanged?: boolean;
  resourcesListChanged?: boolean;
  resourceSubscriptions?: string[];
}

export type ParsedFilter = { ok: true; filter: SubscriptionFilter } | { ok: false; message: string };

/** `params.notifications` of subscriptions/listen, checked (subscriptions.mdx "SubscriptionFilter"). */
export function parseFilter(params: JsonObject): ParsedFilter {
  const notifications = params['notifications'];
  if (!isJsonObject(notifications)) return { ok: false, message: 'Invalid params: params.notifications is required (an object)' };
  const filter: SubscriptionFilter = {};
  for (const flag of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
    const value = notifications[flag];
    if (value === undefined) continue;
    if (typeof value !== 'boolean') return { ok: false, message: `Invalid params: notifications.${flag} must be a boolean` };
    filter[flag] = value;
  }
  const uris = notifications['resourceSubscriptions'];
  if (uris !== undefined) {
    if (
      !Array.isArray(uris) ||
      uris.length > MAX_RESOURCE_SUBSCRIPTIONS ||
      !uris.every((uri) => typeof uri === 'string' && uri.length > 0 && uri.length <= MAX_URI_CHARS)
    ) {
      return {
        ok: false,
        message: `Invalid params: notifications.resourceSubscriptions must be at most ${MAX_RESOURCE_SUBSCRIPTIONS} URIs of at most ${MAX_URI_CHARS} characters`,
      };
    }
    filter.resourceSubscriptions = [...new Set(uris as string[])];
  }
  return { ok: true, filter };
}

/** What of the filter the server can deliver, from its initialize capabilities. */
function honoured(filter: SubscriptionFilter, capabilities: JsonObject): SubscriptionFilter {
  const tools = isJsonObject(capabilities['tools']) ? capabilities['tools'] : undefined;
  const prompts = isJsonObject(capabilities['prompts']) ? capabilities['prompts'] : undefined;
  const resources = isJsonObject(capabilities['resources']) ? capabilities['resources'] : undefined;
  const out: SubscriptionFilter = {};
  if (filter.toolsListChanged && tools?.['listChanged'] === true) out.toolsListChanged = true;
  if (filter.promptsListChanged && prompts?.['listChanged'] === true) out.promptsListChanged = true;
  if (filter.resourcesListChanged && resources?.['listChanged'] === true) out.resourcesListChanged = true;
  if (filter.resourceSubscriptions !== undefined && resources?.['subscribe'] === true) out.resourceSubscriptions = filter.resourceSubscriptions;
  return out;
}

/**
 * One subscriptions/listen stream (subscriptions.mdx): the acknowledgement first, then each
 * list change or resource update the client asked for, tagged with the listen request's id.
 * Resource subscriptions become `resources/subscribe` on the user's child, which is kept while
 * the stream is open. Closing the stream ends the subscription; a gateway shutting down ends it
 * gracefully with the listen result.
 */
export function openSubscription(options: {
  res: ServerResponse;
  id: RequestId;
  filter: SubscriptionFilter;
  child: ModernChild;
  listen: (listener: (method: string, params: JsonObject) => void) => () => void;
  onClosing: (end: () => void) => () => void;
}): void {
  const { res, id, child } = options;
  const capabilities = isJsonObject(child.initializeResult['capabilities']) ? child.initializeResult['capabilities'] : {};
  const filter = honoured(options.filter, capabilities);
  const tag = { [META.subscriptionId]: id };
  const sse = new SseStream(res, 200);
  sse.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: tag, notifications: filter } }));
  const uris = new Set(filter.resourceSubscriptions ?? []);
  for (const uri of uris) child.notifyChild('resources/subscribe', { uri });
  child.listeners++;

  const wanted = (method: string, params: JsonObject): boolean => {
    switch (method) {
      case 'notifications/tools/list_changed':
        return filter.toolsListChanged === true;
      case 'notifications/prompts/list_changed':
        return filter.promptsListChanged === true;
      case 'notifications/resources/list_changed':
        return filter.resourcesListChanged === true;
      case 'notifications/resources/updated':
        return typeof params['uri'] === 'string' && uris.has(params['uri']);
      default:
        return false;
    }
  };
  const stopListening = options.listen((method, params) => {
    if (!wanted(method, params)) return;
    const meta = isJsonObject(params['_meta']) ? params['_meta'] : {};
    sse.send(JSON.stringify({ jsonrpc: '2.0', method, params: { ...params, _meta: { ...meta, ...tag } } }));
  });
  // A child that exits ends the stream without the listen result: an abrupt end, which tells
  // the client to listen again (on a new child).
  let ticks = 0;
  const keepalive = setInterval(() => {
    if (!child.alive) {
      cleanup();
      sse.end();
    } else if (++ticks % (KEEPALIVE_MS / TICK_MS) === 0) sse.comment('keepalive');
  }, TICK_MS);
  keepalive.unref();
  let ended = false;
  const cleanup = (): void => {
    if (ended) return;
    ended = true;
    clearInterval(keepalive);
    stopListening();
    stopClosing();
    child.listeners--;
    if (child.alive) for (const uri of uris) child.notifyChild('resources/unsubscribe', { uri });
  };
  const stopClosing = options.onClosing(() => {
    sse.send(JSON.stringify({ jsonrpc: '2.0', id, result: { resultType: 'complete', _meta: tag } }));
    cleanup();
    sse.end();
  });
  res.once('close', cleanup);
}

export const LISTEN_NEEDS_SSE = {
  code: ErrorCode.InvalidRequest,
  message: 'Not Acceptable: subscriptions/listen answers with an SSE stream; send Accept: text/event-stream',
};
