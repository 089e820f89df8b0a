import { randomBytes } from 'node:crypto';
import { tempProjectDir } from './temp-project.js';
import { expect } from 'vitest';
import { gatewayUrls, type GatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { ephemeralKeySet } from '../../runtime/auth/tokens/signing-keys.js';
import { createLocalLogin, type LocalLoginAnnouncement } from '../../runtime/auth/upstream/local-login.js';
import { parseConfig } from '../../runtime/config/load-config.js';
import { startGateway, type RunningGateway } from '../../runtime/gateway.js';
import { silentLogger } from '../../runtime/logger.js';
import { createEmbeddedStore } from '../../runtime/store/embedded-store.js';
import { createRedisStore } from '../../runtime/store/redis-store.js';
import type { Store } from '../../runtime/store/store.js';
import { freePort } from './free-port.js';
import { ECHO_FIXTURE, startGatewayHarness, type GatewayHarness } from './gateway-harness.js';
import { registerClient } from './oauth-flow.js';
import { startRedis } from './redis-server.js';

/** Markup that must never come back unescaped from any page of the gateway. */
export const HTML_PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)>",
  '</title></main><script>alert(document.cookie)</script>',
  '<a href="javascript:alert(1)">x</a>',
];

/** A hostile suite registers far more clients than the default per-address limit allows. */
export function startHostileHarness(overrides: Record<string, unknown> = {}, options: Parameters<typeof startGatewayHarness>[1] = {}): Promise<GatewayHarness> {
  return startGatewayHarness({ clients: { registrationsPer10Min: 10_000 }, ...overrides }, options);
}

/** The whole point of the hostile suites: whatever was sent, the answer is a client error at worst. */
export function expectNo5xx(status: number, label: string): void {
  expect(status, `${label}: answered ${status}`).toBeGreaterThanOrEqual(200);
  expect(status, `${label}: answered ${status}`).toBeLessThan(500);
}

export async function expectHealthy(issuer: string): Promise<void> {
  // /health answers within a second, with "no answer to initialize yet" while a server's probe
  // still runs (slow under load): the gateway must be healthy again soon, not at the first ask.
  await expect.poll(async () => (await fetch(`${issuer}/health`)).status, { timeout: 15_000, interval: 250 }).toBe(200);
}

/** Every HTML page: no inline markup from the request, and the hardening headers (no scripts, not frameable). */
export function expectSafePage(label: string, body: string, csp: string | null | undefined): void {
  for (const payload of HTML_PAYLOADS) expect(body.includes(payload), `${label}: reflects ${payload} unescaped`).toBe(false);
  // The gateway's pages have no scripts, images or links at all; any such tag came from the request.
  expect(body, label).not.toMatch(/<(script|img|svg|a|iframe)[\s>/]/i);
  expect(csp, `${label}: Content-Security-Policy`).toContain("default-src 'none'");
  expect(csp, `${label}: Content-Security-Policy`).toContain("frame-ancestors 'none'");
}

export function basicAuth(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}

export interface ConfidentialClient {
  clientId: string;
  secret: string;
  /** `Authorization: Basic ...` for this client (RFC 6749 §2.3.1 encoding). */
  authorization: string;
  registrationClientUri: string;
  registrationAccessToken: string;
}

export async function registerConfidential(h: GatewayHarness, metadata: Record<string, unknown> = {}): Promise<ConfidentialClient> {
  const client = await registerClient(h, { token_endpoint_auth_method: 'client_secret_basic', ...metadata });
  const secret = String(client.client_secret);
  return {
    clientId: client.client_id,
    secret,
    authorization: basicAuth(client.client_id, secret),
    registrationClientUri: String(client['registration_client_uri']),
    registrationAccessToken: String(client['registration_access_token']),
  };
}

export function postForm(url: string, body: string | Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: typeof body === 'string' ? body : new URLSearchParams(body).toString(),
  });
}

export interface LocalLoginGateway {
  gateway: RunningGateway;
  urls: GatewayUrls;
  /** What the gateway would print in the operator's terminal, newest last. */
  announcements: LocalLoginAnnouncement[];
  close(): Promise<void>;
}

/**
 * A gateway with the one-time-code login (`provider: local`), which the GitHub harness does not
 * mount: its `/login/local` pages are HTML too. Runs on Redis under MCPGW_TEST_STORE=redis, like
 * the harness.
 */
export async function startLocalLoginGateway(): Promise<LocalLoginGateway> {
  const port = await freePort();
  const config = parseConfig(
    {
      publicUrl: `http://127.0.0.1:${port}`,
      provider: { type: 'local', user: 'alice' },
      allowedUsers: ['alice'],
      clients: { registrationsPer10Min: 10_000 },
      servers: { echo: { command: process.execPath, args: [ECHO_FIXTURE] } },
    },
    'hostile local-login config',
  );
  const urls = gatewayUrls(config);
  const redis = process.env['MCPGW_TEST_STORE'] === 'redis' ? await startRedis() : undefined;
  const store: Store =
    redis && 'url' in redis
      ? await createRedisStore({ url: redis.url, keyPrefix: `mcpgw-test-${randomBytes(6).toString('hex')}:` })
      : await createEmbeddedStore({});
  const announcements: LocalLoginAnnouncement[] = [];
  const upstream = createLocalLogin({ store, user: 'alice', loginUrl: urls.localLogin, announce: (a) => announcements.push(a) });
  const project = tempProjectDir();
  const gateway = await startGateway(
    { config, store, keys: await ephemeralKeySet(), upstream, logger: silentLogger(), projectDir: project.dir },
    { host: '127.0.0.1', port },
  );
  return {
    gateway,
    urls,
    announcements,
    async close() {
      await gateway.close();
      if (redis && 'url' in redis) await redis.stop();
      project.remove();
    },
  };
}
