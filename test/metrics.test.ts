import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayMetrics, OTHER_TOOL } from '../runtime/metrics/gateway-metrics.js';
import { meteredStore } from '../runtime/metrics/metered-store.js';
import { routeOfPath } from '../runtime/metrics/http-routes.js';
import { createEmbeddedStore } from '../runtime/store/embedded-store.js';
import { ALICE, CAROL, fileToolsServer, startAccessGateway, toolJournal, type AccessGateway } from './helpers/access-gateway.js';
import { freePort } from './helpers/free-port.js';
import { RawMcpSession } from './helpers/mcp-session.js';
import { parsePrometheusText, sampleSum, type Sample } from './helpers/prometheus-text.js';

/*
 * The gateway's Prometheus metrics through the whole embedded gateway: real stdio children,
 * GET /metrics on the public listener (admin token) and on metrics.listen, series checked
 * against what the test did, and label values that hostile input cannot grow.
 */

const ADMIN_TOKEN = randomBytes(32).toString('base64url');
const journal = toolJournal();
let gw: AccessGateway;
let metricsPort: number;
const sessions: RawMcpSession[] = [];

beforeAll(async () => {
  metricsPort = await freePort();
  gw = await startAccessGateway(
    {
      metrics: { listen: `127.0.0.1:${metricsPort}` },
      servers: {
        fs: fileToolsServer(journal, {
          tools: { deny: ['write_*'] },
          access: [{ users: ['alice'], tools: ['*'] }],
          rateLimit: { tools: { search_files: '1/1m' } },
        }),
      },
    },
    { adminToken: ADMIN_TOKEN },
  );
});
afterAll(async () => {
  await Promise.allSettled(sessions.map((s) => s.close()));
  await gw?.close();
  journal.remove();
});

async function scrape(url = `http://127.0.0.1:${metricsPort}/metrics`, headers: Record<string, string> = {}): Promise<Sample[]> {
  const res = await fetch(url, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

async function session(user = ALICE): Promise<RawMcpSession> {
  const s = await RawMcpSession.open(gw.urls.resourceFor('fs'), await gw.token('fs', user));
  sessions.push(s);
  return s;
}

describe('Prometheus metrics of the embedded gateway', () => {
  it('counts tool calls by server, listed tool and outcome, with durations and the gateway overhead', async () => {
    const alice = await session();
    await alice.listTools(); // the names the server lists become labels
    expect((await alice.callTool('read_file', { path: 'a' })).answer.result).toBeDefined();
    expect((await alice.callTool('read_file', { path: 'missing' })).answer.result?.['isError']).toBe(true);
    expect((await alice.callTool('write_file', { path: 'a' })).answer.error?.code).toBe(-32602);
    expect((await alice.callTool('search_files', { path: 'a' })).reply.status).toBe(200);
    expect((await alice.callTool('search_files', { path: 'b' })).reply.status).toBe(429);

    const samples = await scrape();
    const calls = (tool: string, outcome: string) => sampleSum(samples, 'mcp_gateway_tool_calls_total', { server: 'fs', tool, outcome });
    expect(calls('read_file', 'ok')).toBe(1);
    expect(calls('read_file', 'error')).toBe(1);
    expect(calls('write_file', 'denied')).toBe(1);
    expect(calls('search_files', 'ok')).toBe(1);
    expect(calls('search_files', 'limited')).toBe(1);
    // Durations are the server's: refused calls never reached it.
    expect(sampleSum(samples, 'mcp_gateway_tool_call_duration_seconds_count', { server: 'fs' })).toBe(3);
    const overheadCount = sampleSum(samples, 'mcp_gateway_gateway_overhead_seconds_count');
    const overheadSum = sampleSum(samples, 'mcp_gateway_gateway_overhead_seconds_sum');
    expect(overheadCount).toBe(3);
    expect(overheadSum).toBeGreaterThan(0);
    expect(overheadSum / overheadCount).toBeLessThan(0.5);
    expect(sampleSum(samples, 'mcp_gateway_sessions', { server: 'fs' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, 'mcp_gateway_children', { server: 'fs' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, 'mcp_gateway_http_requests_total', { route: 'mcp', status: '200' })).toBeGreaterThanOrEqual(5);
    expect(sampleSum(samples, 'mcp_gateway_http_requests_total', { route: 'mcp', status: '429' })).toBe(1);
    expect(sampleSum(samples, 'mcp_gateway_auth_decisions_total', { endpoint: 'verify', decision: 'allowed' })).toBeGreaterThanOrEqual(7);
  });

  it('gives hostile tool names, paths and tokens no series of their own', async () => {
    const carol = await session(CAROL); // no access rule names carol: every call is denied
    const alice = await session();
    const hostile = Array.from({ length: 25 }, (_, i) => `evil_${i}_${randomBytes(4).toString('hex')}"}\n# HELP x`);
    for (const name of hostile) {
      await alice.callTool(name); // unknown to the server: error
      await carol.callTool(name); // denied
    }
    for (let i = 0; i < 10; i++) await fetch(`${gw.urls.issuer.replace(/\/$/, '')}/junk-${i}-${randomBytes(3).toString('hex')}`);
    await fetch(gw.urls.resourceFor('fs'), { method: 'POST', headers: { authorization: 'Bearer forged.token.here' } });

    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const samples = parsePrometheusText(text);
    expect(text).not.toContain('evil_');
    expect(text).not.toContain('junk-');
    expect(text).not.toContain('forged');
    expect(sampleSum(samples, 'mcp_gateway_tool_calls_total', { server: 'fs', tool: OTHER_TOOL, outcome: 'error' })).toBe(25);
    expect(sampleSum(samples, 'mcp_gateway_tool_calls_total', { server: 'fs', tool: OTHER_TOOL, outcome: 'denied' })).toBe(25);
    expect(sampleSum(samples, 'mcp_gateway_http_requests_total', { route: 'other', status: '404' })).toBe(10);
    expect(sampleSum(samples, 'mcp_gateway_auth_decisions_total', { endpoint: 'verify', decision: 'unauthenticated' })).toBe(1);
    const tools = new Set(samples.filter((s) => s.name === 'mcp_gateway_tool_calls_total').map((s) => s.labels['tool']));
    for (const tool of tools) expect(['read_file', 'write_file', 'search_files', OTHER_TOOL]).toContain(tool);
  });

  it('serves GET /metrics on the public listener for the admin token only', async () => {
    const url = `${gw.urls.issuer.replace(/\/$/, '')}/metrics`;
    const none = await fetch(url);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    expect(((await none.json()) as { error_description: string }).error_description).toContain('.secrets/admin-token');
    for (const authorization of [`Bearer ${ADMIN_TOKEN.slice(0, -1)}x`, `Basic ${ADMIN_TOKEN}`, `Bearer ${ADMIN_TOKEN} extra`, 'Bearer ']) {
      expect((await fetch(url, { headers: { authorization } })).status, authorization).toBe(401);
    }
    const samples = await scrape(url, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(samples.some((s) => s.name === 'mcp_gateway_tool_calls_total')).toBe(true);
    expect((await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(405);
    const head = await fetch(url, { method: 'HEAD', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('answers nothing but /metrics on metrics.listen', async () => {
    for (const path of ['/', '/metrics/extra', '/health', '/admin/clients', '/fs/mcp']) {
      const res = await fetch(`http://127.0.0.1:${metricsPort}${path}`);
      expect(res.status, path).toBe(404);
    }
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics?x=1`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('GatewayMetrics', () => {
  it('counts refreshes by outcome from the audit log, bounding the error label', async () => {
    const metrics = new GatewayMetrics({ defaults: false });
    metrics.audited('tokens_refreshed', {});
    metrics.audited('token_refused', { grantType: 'refresh_token', error: 'invalid_grant' });
    metrics.audited('token_refused', { grantType: 'refresh_token', error: 'made_up"}' });
    metrics.audited('token_refused', { grantType: 'authorization_code', error: 'invalid_grant' });
    const samples = parsePrometheusText((await metrics.exposition()).body);
    expect(sampleSum(samples, 'mcp_gateway_token_refreshes_total', { outcome: 'ok' })).toBe(1);
    expect(sampleSum(samples, 'mcp_gateway_token_refreshes_total', { outcome: 'invalid_grant' })).toBe(1);
    expect(sampleSum(samples, 'mcp_gateway_token_refreshes_total', { outcome: 'error' })).toBe(1);
    expect(sampleSum(samples, 'mcp_gateway_auth_decisions_total', { endpoint: 'token', decision: 'refused' })).toBe(3);
    expect(sampleSum(samples, 'mcp_gateway_auth_decisions_total', { endpoint: 'token', decision: 'issued' })).toBe(1);
  });

  it('labels at most 500 tools per server, and names no process metrics unless asked', async () => {
    const metrics = new GatewayMetrics({ defaults: false });
    metrics.learnTools(
      's',
      Array.from({ length: 600 }, (_, i) => `t${i}`),
    );
    expect(metrics.toolLabel('s', 't499')).toBe('t499');
    expect(metrics.toolLabel('s', 't500')).toBe(OTHER_TOOL);
    expect(metrics.toolLabel('other', 't1')).toBe(OTHER_TOOL);
    expect((await metrics.exposition()).body).not.toContain('process_cpu');
    expect((await new GatewayMetrics().exposition()).body).toContain('process_cpu_user_seconds_total');
  });

  it('counts store operations that failed for want of the store, not other errors', async () => {
    const metrics = new GatewayMetrics({ defaults: false });
    const store = await createEmbeddedStore();
    const metered = meteredStore(store, metrics);
    await metered.set('k', 1);
    expect(await metered.get('k')).toBe(1);
    await store.close();
    await expect(metered.get('k')).rejects.toMatchObject({ code: 'ERR_STORE_UNREACHABLE' });
    await expect(metered.keys('')).rejects.toMatchObject({ code: 'ERR_STORE_UNREACHABLE' });
    const samples = parsePrometheusText((await metrics.exposition()).body);
    expect(sampleSum(samples, 'mcp_gateway_store_errors_total')).toBe(2);
  });

  it('names routes from a fixed table', () => {
    expect(routeOfPath('/token')).toBe('token');
    expect(routeOfPath('/register/abc')).toBe('register');
    expect(routeOfPath('/.well-known/oauth-authorization-server')).toBe('metadata');
    expect(routeOfPath('/verify')).toBe('verify');
    expect(routeOfPath('/tokenx')).toBe('other');
    expect(routeOfPath('/')).toBe('other');
    expect(routeOfPath(`/${'a'.repeat(5000)}`)).toBe('other');
  });
});
