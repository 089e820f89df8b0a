import type { ClientRequest, ServerResponse } from 'node:http';

export interface RelayLifecycle {
  /** Requests still open upstream, so a closing proxy can destroy them. */
  inFlight: Set<{ destroy(): void }>;
  /** The upstream failed before any answer went to the client (a 502 of the proxy's own shape). */
  onUnreachable(err: NodeJS.ErrnoException): void;
  /** Called once, when the exchange is over either way. */
  done(): void;
}

/**
 * The part every streaming proxy of the gateway shares (the router's reverse proxy, the bridge's
 * remote proxy): track the upstream request, stop it when the client leaves (an SSE stream
 * included), and on an upstream error either cut the client's half-sent answer or let the
 * caller answer 502. What is forwarded, and how answers are shaped, stays with each proxy.
 */
export function relayLifecycle(res: ServerResponse, outgoing: ClientRequest, { inFlight, onUnreachable, done }: RelayLifecycle): void {
  inFlight.add(outgoing);
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    inFlight.delete(outgoing);
    done();
  };
  // Closed before the answer was complete: the client left (or we cut it); stop upstream too.
  res.once('close', () => {
    if (!res.writableFinished) outgoing.destroy();
    finish();
  });
  outgoing.on('error', (err: NodeJS.ErrnoException) => {
    if (res.headersSent) res.destroy();
    else if (!res.destroyed) onUnreachable(err);
    finish();
  });
}
