import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import type { RequestId } from './json-rpc.js';
import { replyRaw } from './json-replies.js';
import { tooLargeErrorLine } from './oversized-message.js';
import { SseEventSplitter } from './sse-event-splitter.js';
import type { WatchedAnswers } from './watched-answers.js';

export interface UpstreamRelay {
  /** The remote server's answer, before any of its body was read. */
  answer: IncomingMessage;
  res: ServerResponse;
  status: number;
  /** The headers to pass on (already filtered by the proxy). */
  headers: OutgoingHttpHeaders;
  maxMessageBytes: number;
  /** A GET opens the server's stream of its own messages; anything else answers the client's POST (or DELETE). */
  method: string | undefined;
  /** The id of the client's request when its body held exactly one, for the error that replaces an oversized answer. */
  requestId(): RequestId | undefined;
  log: Logger;
  /** The tool gate's watches of this POST's requests: messages answering them are rewritten (watched-answers.ts). */
  watched?: WatchedAnswers | undefined;
}

const WHAT = "the server's response";

/**
 * Relays a remote server's answer with no message over `maxMessageBytes` in it. SSE is framed and
 * relayed one whole event at a time (MCP sends one JSON-RPC message per event); a JSON body
 * with a Content-Length is streamed through after checking that length, one without is gathered
 * up to the limit. An oversized answer to a request is replaced by a JSON-RPC error for that
 * request and the upstream response is cut there, so the rest is never read, let alone held.
 * On a GET stream an oversized event is skipped instead: cutting it would make the client
 * reconnect with Last-Event-ID and the server replay the same event.
 */
export function relayUpstreamResponse(relay: UpstreamRelay): void {
  const { answer, res, log } = relay;
  let cut = false;
  // Destroying the answer on purpose makes it emit an error: that one is not the upstream failing.
  answer.on('error', () => {
    if (!cut) res.destroy();
  });
  const cutUpstream = (): void => {
    cut = true;
    answer.unpipe(res);
    answer.pause();
    answer.removeAllListeners('data');
    // Only once the client has its answer: the upstream's teardown must not race it.
    if (res.writableFinished) answer.destroy();
    else res.once('finish', () => answer.destroy()).once('close', () => answer.destroy());
  };
  const contentType = String(answer.headers['content-type'] ?? '');
  if (contentType.startsWith('text/event-stream')) {
    relaySse(relay, cutUpstream);
    return;
  }

  const declared = Number(answer.headers['content-length']);
  if (Number.isFinite(declared) && declared > relay.maxMessageBytes) {
    log.warn({ bytes: declared, maxMessageBytes: relay.maxMessageBytes }, 'remote MCP server answered with more than maxMessageBytes; cut');
    replyTooLarge(relay);
    cutUpstream();
    return;
  }
  if (Number.isFinite(declared) && relay.watched === undefined) {
    res.writeHead(relay.status, relay.headers);
    answer.pipe(res);
    return;
  }
  // Chunked without a length, or watched by the tool gate: held until it ends, which is never past the limit.
  const chunks: Buffer[] = [];
  let size = 0;
  answer.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= relay.maxMessageBytes) {
      chunks.push(chunk);
      return;
    }
    chunks.length = 0;
    log.warn({ maxMessageBytes: relay.maxMessageBytes }, 'remote MCP server answered with more than maxMessageBytes; cut');
    replyTooLarge(relay);
    cutUpstream();
  });
  answer.on('end', () => {
    if (cut) return;
    const body = Buffer.concat(chunks, size);
    if (relay.watched === undefined) {
      res.writeHead(relay.status, relay.headers);
      res.end(body);
      return;
    }
    const text = relay.watched.rewriteJson(body.toString('utf8'));
    const { 'content-length': _length, ...headers } = relay.headers;
    res.writeHead(relay.status, { ...headers, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
}

function relaySse(relay: UpstreamRelay, cutUpstream: () => void): void {
  const { answer, res, log, maxMessageBytes } = relay;
  // A rewritten event changes the body's length: the upstream's Content-Length (an SDK server
  // sends one for a stream it already finished) would leave the client waiting for bytes that never come.
  const { 'content-length': _length, ...unsized } = relay.headers;
  res.writeHead(relay.status, { ...(relay.watched === undefined ? relay.headers : unsized), 'x-accel-buffering': 'no' });
  res.flushHeaders();
  const events = new SseEventSplitter({
    maxEventBytes: maxMessageBytes,
    onEvent(received) {
      const event = relay.watched === undefined ? received : relay.watched.rewriteEvent(received.toString('utf8'));
      if (res.write(event)) return;
      answer.pause();
      res.once('drain', () => answer.resume());
    },
    onOversized({ bytes }) {
      if (relay.method === 'GET') {
        log.warn({ maxMessageBytes }, "skipping an event larger than maxMessageBytes on the remote MCP server's stream");
        return;
      }
      events.stop();
      const id = relay.requestId();
      log.warn(
        { id, bytesSoFar: bytes, maxMessageBytes },
        'remote MCP server sent an event larger than maxMessageBytes; answering the request with an error and cutting the stream',
      );
      // With no single request id (a batch), nothing can be answered by id: the stream just ends.
      res.end(id === undefined ? undefined : `data: ${tooLargeErrorLine(id, WHAT, maxMessageBytes)}\n\n`);
      cutUpstream();
    },
  });
  answer.on('data', (chunk: Buffer) => events.push(chunk));
  answer.on('end', () => res.end());
}

/** Before anything was sent: a JSON-RPC error in place of the answer, on 200 when it answers a known request. */
function replyTooLarge(relay: UpstreamRelay): void {
  const id = relay.requestId();
  const ok = relay.status >= 200 && relay.status < 300 && id !== undefined;
  replyRaw(relay.res, ok ? 200 : 502, tooLargeErrorLine(id ?? null, WHAT, relay.maxMessageBytes));
}
