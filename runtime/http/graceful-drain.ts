import type { IncomingMessage, ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A runtime's own answer to a request that arrives while draining; false leaves it to the default 503. */
export type Refusal = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface Drain {
  /** The gateway's request handler, counting what is in flight and refusing new work once draining. */
  handler: Handler;
  /** Refuses new requests from now on and waits for those in flight, at most `graceMs`; resolves whether they all finished. */
  drain(graceMs: number): Promise<boolean>;
  readonly inFlight: number;
}

/** Seconds a refused client should wait: a restarted gateway (or another replica) answers by then. */
const RETRY_AFTER_S = '5';

/**
 * SIGTERM without aborting calls: new requests get 503 with Retry-After (and the connection
 * closed, so a keep-alive client reconnects to whoever serves next), while calls already
 * running get up to the grace period to finish. Streams are not waited for: GET requests (on
 * MCP endpoints, SSE streams that stay open until their session ends, the step after the drain)
 * and 2026-07-28 `subscriptions/listen` POSTs, which stay open until the client or the bridge
 * ends them (the bridge closes them gracefully when it closes). The Mcp-Method header says which
 * a POST is; the bridge refuses one whose header and body differ, at once.
 */
export function createDrain(handle: Handler, { whileDraining }: { whileDraining?: Refusal } = {}): Drain {
  let draining = false;
  let inFlight = 0;
  let onIdle: (() => void) | undefined;
  const handler: Handler = (req, res) => {
    if (draining) {
      if (whileDraining?.(req, res) === true) return;
      res.writeHead(503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Retry-After': RETRY_AFTER_S, Connection: 'close' });
      res.end(JSON.stringify({ error: 'temporarily_unavailable', error_description: 'The gateway is shutting down; retry shortly.' }));
      return;
    }
    if (!isStream(req)) {
      inFlight++;
      res.once('close', () => {
        inFlight--;
        if (inFlight === 0) onIdle?.();
      });
    }
    handle(req, res);
  };
  return {
    handler,
    get inFlight() {
      return inFlight;
    },
    async drain(graceMs) {
      draining = true;
      if (inFlight === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<void>((resolve) => (onIdle = resolve));
      const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([idle, late]);
      clearTimeout(timer);
      return inFlight === 0;
    },
  };
}

function isStream(req: IncomingMessage): boolean {
  return req.method === 'GET' || (req.method === 'POST' && req.headers['mcp-method'] === 'subscriptions/listen');
}
