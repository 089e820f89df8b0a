import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness, type GatewayHarness } from './helpers/gateway-harness.js';
import { CLIENT_REDIRECT, authorizeUrl, newPkce } from './helpers/oauth-flow.js';
import { TestOAuthProvider, approveConsent } from './helpers/sdk-oauth-provider.js';

/**
 * Client ID Metadata Documents end to end: the documents are served over real https by a host
 * named cimd.test (a self-signed certificate made with openssl; the gateway's resolver is given
 * that CA and a DNS answer of 127.0.0.1, and private targets are allowed only here).
 */
const HAVE_OPENSSL = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
if (!HAVE_OPENSSL) {
  if (process.env['CI']) throw new Error('openssl is required in CI for the metadata-document tests (apt-get install -y openssl)');
  console.warn('skipping the Client ID Metadata Document tests: openssl not found (apt-get install -y openssl)');
}

let h: GatewayHarness;
let docs: Server;
let base: string;
let certDir: string;
const documents = new Map<string, unknown>();

beforeAll(async () => {
  if (!HAVE_OPENSSL) return;
  certDir = mkdtempSync(join(tmpdir(), 'mcpgw-cimd-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=cimd.test',
      '-addext',
      'subjectAltName=DNS:cimd.test',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  const cert = readFileSync(join(certDir, 'cert.pem'));
  docs = createServer({ key: readFileSync(join(certDir, 'key.pem')), cert }, (req, res) => {
    const doc = documents.get(req.url ?? '');
    if (doc === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' }).end(JSON.stringify(doc));
  });
  await new Promise<void>((resolve) => docs.listen(0, '127.0.0.1', resolve));
  base = `https://cimd.test:${(docs.address() as AddressInfo).port}`;
  h = await startGatewayHarness({}, { cimd: { ca: cert, allowPrivateNetworks: true, lookup: async () => [{ address: '127.0.0.1', family: 4 }] } });
});
afterAll(async () => {
  await h?.close();
  docs?.close();
  if (certDir) rmSync(certDir, { recursive: true, force: true });
});

function publish(path: string, doc: Record<string, unknown>): string {
  const url = `${base}${path}`;
  documents.set(path, { client_id: url, ...doc });
  return url;
}

(HAVE_OPENSSL ? describe : describe.skip)('Client ID Metadata Documents', () => {
  it('lets the MCP SDK client connect with a metadata document URL instead of registering', async () => {
    const clientId = publish('/sdk-client.json', {
      client_name: 'CIMD SDK client',
      redirect_uris: [CLIENT_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    const endpoint = new URL(h.urls.resourceFor('echo'));
    const provider = new TestOAuthProvider(CLIENT_REDIRECT, async (browser, url) => approveConsent(browser, await browser.open(url.href)));
    provider.clientMetadataUrl = clientId;
    const client = new Client({ name: 'cimd-e2e', version: '1.0.0' });
    await expect(client.connect(new StreamableHTTPClientTransport(endpoint, { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(provider.client?.client_id).toBe(clientId);
    const transport = new StreamableHTTPClientTransport(endpoint, { authProvider: provider });
    await transport.finishAuth(provider.code());
    await client.connect(transport);
    const result = await client.callTool({ name: 'echo', arguments: { text: 'via CIMD' } });
    expect(result.content).toEqual([{ type: 'text', text: 'via CIMD' }]);
    expect(provider.tokens()?.refresh_token).toBeTruthy();
    await client.close();
  });

  it('shows an error page and never redirects when the document names another client_id', async () => {
    const url = `${base}/mismatch.json`;
    documents.set('/mismatch.json', { client_id: `${base}/other.json`, redirect_uris: [CLIENT_REDIRECT] });
    const res = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: url,
        redirect_uri: CLIENT_REDIRECT,
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('metadata document');
  });

  it('refuses a redirect URI the document does not list', async () => {
    const clientId = publish('/narrow.json', { redirect_uris: ['https://app.example/cb'] });
    const res = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: CLIENT_REDIRECT,
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });

  it("matches a document's loopback redirect URI on any port, as RFC 8252 §7.3 requires of a static document", async () => {
    const clientId = publish('/loopback.json', { client_name: 'Loopback CIMD client', redirect_uris: ['http://127.0.0.1/callback'] });
    const onPort = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: CLIENT_REDIRECT,
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
        resource: h.urls.resourceFor('echo'),
      }),
      { redirect: 'manual' },
    );
    expect(onPort.status).toBe(302);
    expect(onPort.headers.get('location')).not.toContain(CLIENT_REDIRECT);
    const otherPath = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: clientId,
        redirect_uri: 'http://127.0.0.1:53682/other',
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    expect(otherPath.status).toBe(400);
    expect(otherPath.headers.get('location')).toBeNull();
  });

  it('refuses a document that is missing', async () => {
    const res = await fetch(
      authorizeUrl(h, {
        response_type: 'code',
        client_id: `${base}/absent.json`,
        redirect_uri: CLIENT_REDIRECT,
        code_challenge: newPkce().challenge,
        code_challenge_method: 'S256',
      }),
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
  });
});
