import { Agent, request, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { isModernVersion } from '../../bridge/modern/modern-protocol.js';
import { SESSION_NOT_FOUND } from '../../bridge/json-rpc.js';
import type { Logger } from '../../logger.js';
import { type ClientAddress, peerAddress } from '../../http/client-address.js';
import { forwardHeaders, relayAnswer, responseHeaders, type ReverseProxy } from '../reverse-proxy.js';
import { rendezvousOrder } from './rendezvous.js';
import { splitReplica, type ReplicaAddress, type ReplicaSet } from './replica-set.js';
import type { SessionSeal } from './session-seal.js';

export interface ReplicaRouterOptions {
  /** The server name: in logs, error bodies and the seal's associated data. */
  server: string;
  replicas: ReplicaSet;
  seal: SessionSeal;
  logger: Logger;
  /** A request without a session is read up to this many bytes before it is sent, so it can go to another replica if the first one is gone. */
  retryBodyBytes?: number;
  /** How long connecting to a replica may take: a replica that died leaves an address nothing answers at. */
  connectTimeoutMs?: number;
  /** The bridge URL's path, put before each request's (usually empty). */
  basePath?: string;
  /** Who the client is, in X-Forwarded-For: this connection's peer unless trustedProxies says otherwise. */
  clientAddress?: ClientAddress;
}

/** The header a draining bridge sets on its 503 to a new session (runtime/entrypoints/bridge-drain.ts). */
export const DRAINING_HEADER = 'mcp-gateway-draining';

const JSON_NO_STORE = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' };
/** Codes that mean the request never reached the replica: safe to send it to another. */
const NOT_DELIVERED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_CONNECT_TIMEOUT']);
const NOT_FOUND_LINE = JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: SESSION_NOT_FOUND, message: 'Session not found' } });

type Attempt = { kind: 'answered' } | { kind: 'retry' } | { kind: 'failed'; err: NodeJS.ErrnoException };

/**
 * One server's bridge replicas behind the built-in router (issue 16). A 2025 session lives in
 * one replica's process, and clients keep no cookies, so the owner travels in the session id:
 * the replica's answer to `initialize` carries its own Mcp-Session-Id, which the client gets
 * back sealed (session-seal.ts) with the replica's address, and every later request of the
 * session is opened and sent to that replica, under its own id. An id this router did not seal
 * for this user and server, or whose replica is gone, is 404, which tells a client to start a
 * new session; it is never sent anywhere.
 *
 * Requests without a session are new 2025 sessions (spread round-robin over the replicas that
 * take new sessions) or 2026-07-28 requests (stateless: rendezvous-hashed by user, so a user's
 * warm children are reused). Their bodies are small and read first, so a replica that is gone or
 * draining costs a retry on the next one rather than an error.
 *
 * Hand-written over http.request, like the router's reverse proxy: a proxy library would buffer
 * or rewrite what MCP needs streamed (SSE), and the owner lookup and header rewrite are ours.
 */
export function createReplicaRouter({
  server,
  replicas,
  seal,
  logger,
  retryBodyBytes = 1024 * 1024,
  connectTimeoutMs = 2_000,
  basePath = '',
  clientAddress = peerAddress,
}: ReplicaRouterOptions): ReverseProxy {
  const prefix = basePath.replace(/\/+$/, '');
  const agent = new Agent({ keepAlive: true, scheduling: 'lifo' });
  const inFlight = new Set<ClientRequest>();
  const log = logger.child({ upstream: `bridge-${server}` });
  let turn = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.socket.destroyed || res.destroyed) return;
    const user = single(req.headers['x-user-sub']);
    if (user === undefined) {
      // The router sets it after ForwardAuth; without it nothing can be bound to a user.
      res.writeHead(401, JSON_NO_STORE).end(JSON.stringify({ error: 'unauthorized' }));
      return;
    }
    const sealed = req.headers['mcp-session-id'];
    if (sealed !== undefined) return toOwner(req, res, user, sealed);

    const all = await replicas.current();
    if (all.length === 0) {
      req.resume();
      res
        .writeHead(503, { ...JSON_NO_STORE, 'Retry-After': '5' })
        .end(JSON.stringify({ error: 'temporarily_unavailable', error_description: `no replica of ${server} is running` }));
      return;
    }
    const version = single(req.headers['mcp-protocol-version']);
    // Replicas that just refused a connection go last, and for a new session draining ones after them.
    const candidates =
      version !== undefined && isModernVersion(version)
        ? rank(rendezvousOrder(user, all), [(r) => !replicas.isDown(r)])
        : rank(rotate(all, turn++), [
            (r) => replicas.takesNewSessions(r) && !replicas.isDown(r),
            (r) => replicas.takesNewSessions(r),
            (r) => !replicas.isDown(r),
          ]);
    const body = await readUpTo(req, retryBodyBytes);
    if (body === undefined) return; // the client left
    for (const [index, replica] of candidates.entries()) {
      const last = index === candidates.length - 1 || !body.complete;
      const attempt = await exchange(req, res, replica, body, { user, retry: !last });
      if (attempt.kind === 'answered') return;
      if (attempt.kind === 'failed') {
        if (!res.headersSent && !res.destroyed) badGateway(res, attempt.err);
        return;
      }
    }
  }

  /** A request of a 2025 session: to its owner, under the owner's own id, or 404. */
  async function toOwner(req: IncomingMessage, res: ServerResponse, user: string, header: string | string[]): Promise<void> {
    const opened = typeof header === 'string' ? seal.open(header, server, user) : undefined;
    if (opened === undefined) {
      log.info({ event: 'session_refused', reason: typeof header === 'string' ? 'not_sealed_for_user' : 'several_ids' }, 'unknown session id; 404');
      return notFound(req, res);
    }
    req.headers['mcp-session-id'] = opened.sessionId;
    const attempt = await exchange(req, res, opened.owner, { chunks: [], complete: false }, { user, retry: false });
    if (attempt.kind === 'failed') {
      // Its replica is gone (or unreachable): the session went with it. 404 is what the spec's
      // clients act on: they initialize again, and that lands on a live replica.
      log.warn({ event: 'session_owner_gone', owner: opened.owner, code: attempt.err.code }, 'the replica owning a session is gone; 404');
      if (!res.headersSent && !res.destroyed) notFound(req, res);
    }
  }

  /**
   * One try at one replica. `retry`: the body was read whole, and a refusal that left the
   * request unprocessed (not delivered, or a draining replica's 503) lets the caller try the next.
   */
  function exchange(
    req: IncomingMessage,
    res: ServerResponse,
    replica: ReplicaAddress,
    body: ReadBody,
    { user, retry }: { user: string; retry: boolean },
  ): Promise<Attempt> {
    const { host, port } = splitReplica(replica);
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const settle = (attempt: Attempt): void => {
        if (settled) return;
        settled = true;
        inFlight.delete(outgoing);
        resolve(attempt);
      };
      const outgoing = request({ host, port, method: req.method, path: `${prefix}${req.url ?? '/'}`, headers: forwardHeaders(req, clientAddress(req)), agent });
      inFlight.add(outgoing);
      outgoing.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(
          () => outgoing.destroy(Object.assign(new Error(`connecting to ${replica} timed out`), { code: 'ERR_CONNECT_TIMEOUT' })),
          connectTimeoutMs,
        );
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      let clientGone = false;
      const onClientGone = (): void => {
        clientGone = !res.writableFinished;
        if (clientGone) outgoing.destroy();
        settle({ kind: 'answered' });
      };
      res.once('close', onClientGone);
      outgoing.on('error', (err: NodeJS.ErrnoException) => {
        res.off('close', onClientGone);
        // Our own doing: the client left and the upstream request was cut for it.
        if (clientGone) return settle({ kind: 'answered' });
        if (res.headersSent) {
          res.destroy();
          return settle({ kind: 'answered' });
        }
        // A pooled connection the replica had closed, reset on reuse: the request was not read.
        const unread = NOT_DELIVERED.has(err.code ?? '') || (outgoing.reusedSocket && err.code === 'ECONNRESET');
        if (unread) replicas.markDown(replica);
        log.warn({ event: 'replica_unreachable', replica, code: err.code, retry: unread && retry }, `bridge-${server} replica ${replica} did not answer`);
        settle(unread && retry ? { kind: 'retry' } : { kind: 'failed', err });
      });
      outgoing.on('response', (answer) => {
        if (retry && answer.statusCode === 503 && answer.headers[DRAINING_HEADER] !== undefined) {
          // Being replaced: it keeps its own sessions for its drain period but takes no new one.
          replicas.markDraining(replica);
          answer.resume();
          res.off('close', onClientGone);
          return settle({ kind: 'retry' });
        }
        const headers: OutgoingHttpHeaders = responseHeaders(answer.headers);
        delete headers[DRAINING_HEADER];
        const issued = answer.headers['mcp-session-id'];
        if (typeof issued === 'string') {
          try {
            headers['mcp-session-id'] = seal.seal({ owner: replica, sessionId: issued }, server, user);
          } catch {
            log.error({ event: 'session_id_unsealable', replica }, 'a replica issued a session id outside the spec');
            answer.resume();
            res.off('close', onClientGone);
            return settle({ kind: 'failed', err: Object.assign(new Error('the bridge issued an invalid session id'), { code: 'EPROTO' }) });
          }
        }
        relayAnswer(answer, res, headers);
        answer.once('close', () => settle({ kind: 'answered' }));
      });
      for (const chunk of body.chunks) outgoing.write(chunk);
      if (body.complete) outgoing.end();
      else req.pipe(outgoing);
    });
  }

  function badGateway(res: ServerResponse, err: NodeJS.ErrnoException): void {
    res
      .writeHead(502, JSON_NO_STORE)
      .end(JSON.stringify({ error: 'bad_gateway', error_description: `bridge-${server} did not answer (${err.code ?? err.message})` }));
  }

  return {
    handle,
    close() {
      for (const outgoing of inFlight) outgoing.destroy();
      agent.destroy();
    },
  };
}

/** The list from `start` on, wrapping around: round-robin over whatever the list is now. */
function rotate<T>(list: readonly T[], start: number): T[] {
  const at = start % list.length;
  return [...list.slice(at), ...list.slice(0, at)];
}

/** A stable sort by the first preference each item meets (those meeting none last), keeping the order within each. */
function rank<T>(list: readonly T[], preferences: ReadonlyArray<(item: T) => boolean>): T[] {
  const score = (item: T): number => {
    const index = preferences.findIndex((prefers) => prefers(item));
    return index === -1 ? preferences.length : index;
  };
  return list
    .map((item, order) => ({ item, order, score: score(item) }))
    .sort((a, b) => a.score - b.score || a.order - b.order)
    .map(({ item }) => item);
}

interface ReadBody {
  chunks: Buffer[];
  /** The whole body is in `chunks`; otherwise the rest is still in the request stream. */
  complete: boolean;
}

/** Reads the body while it fits in `limit`; undefined when the client left first. */
function readUpTo(req: IncomingMessage, limit: number): Promise<ReadBody | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      bytes += chunk.length;
      if (bytes > limit) {
        // Too large to keep for a retry: the rest is piped to the first replica as it comes.
        req.pause();
        cleanup();
        resolve({ chunks, complete: false });
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve({ chunks, complete: true });
    };
    const onClose = (): void => {
      cleanup();
      resolve(req.complete ? { chunks, complete: true } : undefined);
    };
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
  });
}

function notFound(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  res.writeHead(404, JSON_NO_STORE).end(NOT_FOUND_LINE);
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
