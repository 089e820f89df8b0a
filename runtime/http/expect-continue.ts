import type { IncomingMessage, Server, ServerResponse } from 'node:http';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Requests whose `100 Continue` is still owed: they arrived through 'checkContinue'. */
const owed = new WeakSet<IncomingMessage>();

/**
 * `Expect: 100-continue` (RFC 9110 §10.1.1) asks whether the body is wanted before sending it.
 * Without a 'checkContinue' listener node:http answers `100 Continue` to every such request at
 * once, inviting the body of a request that ForwardAuth is about to refuse. With this one the
 * handler runs first and the 100 goes out only from `sendContinue`, once the request is admitted;
 * a refusal is a final status the client gets without ever sending the body.
 */
export function deferContinue(server: Server, handler: Handler): void {
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    owed.add(req);
    handler(req, res);
  });
}

/** Sends the deferred `100 Continue`, if this request is owed one; call before reading the body. */
export function sendContinue(req: IncomingMessage, res: ServerResponse): void {
  if (owed.delete(req) && !res.headersSent) res.writeContinue();
}
