import { GatewayError } from '../../errors.js';

/**
 * The one kind of HTTP exchange the vault makes: a form POST to an upstream authorization
 * server's token or revocation endpoint. A function rather than `fetch`, so the caller passes its
 * SSRF-guarded client (these endpoints come from the upstream's metadata and are untrusted) with
 * its own timeout and body-size cap; tests pass a plain fetch against a local stand-in.
 */
export type UpstreamPost = (
  url: URL,
  init: { method: 'POST'; headers: Record<string, string>; body: string },
) => Promise<{ status: number; json(): Promise<unknown> }>;

/** How the gateway authenticates to the upstream: a public client, or a confidential one (client_secret_basic). */
export interface UpstreamClientCredentials {
  clientId: string;
  clientSecret?: string | undefined;
}

export interface FormReply {
  status: number;
  /** The parsed JSON body; undefined when the body was not JSON. */
  body: unknown;
}

/** Where a request went, for messages: no query string, which is nobody's business in a log. */
export function endpointText(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/**
 * POSTs `params` as application/x-www-form-urlencoded with the client's authentication. A public
 * client names itself with `client_id` in the body; a confidential one uses HTTP Basic, whose
 * user and password are form-encoded before base64 (RFC 6749 §2.3.1, a step many clients miss).
 * Every way of not getting an answer becomes ERR_UPSTREAM_UNREACHABLE naming `system`; a
 * GatewayError from the caller's client (an SSRF refusal, a body over its cap) passes unchanged.
 */
export async function postForm(
  post: UpstreamPost,
  url: URL,
  params: Record<string, string>,
  client: UpstreamClientCredentials,
  system: string,
): Promise<FormReply> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
  const form = new URLSearchParams(params);
  if (client.clientSecret === undefined) {
    form.set('client_id', client.clientId);
  } else {
    const basic = `${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`;
    headers['authorization'] = `Basic ${Buffer.from(basic, 'utf8').toString('base64')}`;
  }
  let reply: { status: number; json(): Promise<unknown> };
  try {
    reply = await post(url, { method: 'POST', headers, body: form.toString() });
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('ERR_UPSTREAM_UNREACHABLE', `could not reach ${system} at ${endpointText(url)}`, {
      hint: `${system} is down or unreachable from the gateway; the gateway tries again on a later request`,
      cause: err,
    });
  }
  let body: unknown;
  try {
    body = await reply.json();
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    body = undefined;
  }
  return { status: reply.status, body };
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
