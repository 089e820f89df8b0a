import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { ClientMessage } from './bridge-session.js';
import { isJsonObject, jsonRpcErrorLine, type RequestId } from './json-rpc.js';

/**
 * Whether the client that sends this initialize supports URL-mode elicitation (MCP 2025-11-25,
 * client/elicitation: `capabilities.elicitation.url`; an empty `elicitation` is form mode only).
 */
export function supportsUrlElicitation(messages: readonly ClientMessage[]): boolean {
  return messages.some(({ envelope }) => {
    if (envelope.kind !== 'request' || envelope.method !== 'initialize') return false;
    const params = envelope.value['params'];
    const capabilities = isJsonObject(params) ? params['capabilities'] : undefined;
    const elicitation = isJsonObject(capabilities) ? capabilities['elicitation'] : undefined;
    return isJsonObject(elicitation) && isJsonObject(elicitation['url']);
  });
}

/**
 * The answer to a request a remote server with `oauth` cannot take from this user any more (no
 * usable grant there): URLElicitationRequiredError (-32042) with one URL-mode elicitation, the
 * gateway's connect page for the server. The client shows the message and offers to open the
 * link; the page logs the user in again and runs the server's consent (upstream-connect-endpoints.ts);
 * the client then retries. The link carries no identity and no secret: who connects is whoever
 * logs in there, so a forwarded link connects only its opener's own account.
 */
export function urlElicitationRequiredLine(id: RequestId, server: string, connectUrl: string): string {
  const message = `${server} needs you to connect your account there again: open the link, sign in, then retry`;
  return jsonRpcErrorLine(id, ErrorCode.UrlElicitationRequired, message, {
    elicitations: [
      {
        mode: 'url',
        elicitationId: randomUUID(),
        url: connectUrl,
        message: `Connect ${server} to the gateway again: it no longer accepts the gateway's authorization for your account.`,
      },
    ],
  });
}
