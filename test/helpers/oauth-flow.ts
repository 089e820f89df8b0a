import { createHash, randomBytes } from 'node:crypto';
import type { GatewayHarness } from './gateway-harness.js';
import { TestBrowser, type BrowserResult } from './test-browser.js';

export const CLIENT_REDIRECT = 'http://127.0.0.1:53682/callback';

/** What these helpers need of a gateway: its URLs (an in-process harness, or a `serve` child process). */
export type HasUrls = Pick<GatewayHarness, 'urls'>;

export interface Pkce {
  verifier: string;
  challenge: string;
}

export function newPkce(): Pkce {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

export async function registerClient(
  h: HasUrls,
  metadata: Record<string, unknown> = {},
): Promise<{ client_id: string; client_secret?: string } & Record<string, unknown>> {
  const res = await fetch(h.urls.registrationEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'negative tests', redirect_uris: [CLIENT_REDIRECT], token_endpoint_auth_method: 'none', ...metadata }),
  });
  if (res.status !== 201) throw new Error(`registration failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as { client_id: string };
}

export function authorizeUrl(h: HasUrls, params: Record<string, string | undefined>): string {
  const url = new URL(h.urls.authorizationEndpoint);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.href;
}

/** Runs /authorize → GitHub stand-in → /callback → consent (approved) and returns where the browser ended. */
export async function loginAndConsent(
  h: HasUrls,
  params: Record<string, string | undefined>,
  browser = new TestBrowser(CLIENT_REDIRECT),
): Promise<BrowserResult> {
  const first = await browser.open(authorizeUrl(h, params));
  if (first.page?.body.includes('name="decision"')) return browser.submitForm(first.page, { decision: 'approve' });
  return first;
}

export async function tokenRequest(
  h: HasUrls,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(h.urls.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** The whole code flow for `resource`, returning the token response. */
export async function obtainTokens(h: HasUrls, resource: string): Promise<{ clientId: string; access_token: string; refresh_token: string }> {
  const client = await registerClient(h);
  const pkce = newPkce();
  const result = await loginAndConsent(h, {
    response_type: 'code',
    client_id: client.client_id,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: pkce.challenge,
    code_challenge_method: 'S256',
    state: 'st',
    resource,
  });
  const code = result.redirectedTo?.searchParams.get('code');
  if (!code) throw new Error(`no code: ${result.redirectedTo?.href ?? result.page?.body.slice(0, 200)}`);
  const token = await tokenRequest(h, {
    grant_type: 'authorization_code',
    code,
    code_verifier: pkce.verifier,
    redirect_uri: CLIENT_REDIRECT,
    client_id: client.client_id,
    resource,
  });
  if (token.status !== 200) throw new Error(`token failed: ${JSON.stringify(token.body)}`);
  return { clientId: client.client_id, access_token: String(token.body['access_token']), refresh_token: String(token.body['refresh_token']) };
}

export function mcpInitialize(endpoint: string, token: string | undefined, extraHeaders: Record<string, string> = {}): Promise<Response> {
  return fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...extraHeaders,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
}
