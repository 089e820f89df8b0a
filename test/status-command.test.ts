import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedStatus } from '../cli/actions/status.js';
import { ECHO_SERVER } from './helpers/bridge-harness.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli, STACK_FRAME } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { RawMcpSession } from './helpers/mcp-session.js';
import { ServeProcess } from './helpers/serve-process.js';
import { waitForHealth } from './helpers/wait-for-health.js';

/** No engine answers here: an embedded project's status never asks Docker. */
const NOWHERE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

/** `mcp-gateway status` with the admin page's summary (GET /admin/status) of a running serve. */
describe('mcp-gateway status: the summary of a running serve', () => {
  let dir: string;
  let publicUrl: string;
  let serve: ServeProcess;
  let session: RawMcpSession;

  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-status-summary-');
    publicUrl = `http://127.0.0.1:${await freePort()}`;
    expect((await runCli(localInitArgs(dir, publicUrl))).code).toBe(0);
    const added = await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_SERVER}"`]);
    expect(added.code, added.stderr).toBe(0);
    serve = new ServeProcess(['--dir', dir]);
    await serve.waitFor(/mcp-gateway is ready/);
    await waitForHealth(publicUrl);
    const issued = await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'echo']);
    expect(issued.code, issued.stderr).toBe(0);
    session = await RawMcpSession.open(`${publicUrl}/echo/mcp`, issued.stdout.trim());
    for (let i = 0; i < 3; i++) await session.callTool('echo', { text: `call ${i}` });
  });
  afterAll(async () => {
    await serve?.stop();
    if (dir) await removeTempDir(dir);
  });

  it('--json carries summary: sessions per server and user, clients, grants, calls/s, p50/p99, overhead', async () => {
    const result = await runCli(['status', '--dir', dir, '--json'], { env: NOWHERE });
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as EmbeddedStatus;
    expect(status.summaryError).toBeNull();
    const summary = status.summary!;
    expect(Object.keys(summary).sort()).toEqual(['clients', 'generatedAt', 'grants', 'metrics', 'metricsNote', 'servers', 'serversNote']);
    expect(summary.servers).toEqual([{ name: 'echo', healthy: true, reason: null, sessions: 1, users: [{ login: 'alice', sub: 'cli:alice', sessions: 1 }] }]);
    expect(summary.clients).toEqual({ registered: 0 });
    expect(summary.grants).toEqual({ active: 0, revoked: 0, users: 0 });
    expect(summary.metrics).toMatchObject({ toolCalls: 3, toolCallMs: { p50: expect.any(Number), p99: expect.any(Number) } });
    expect(summary.metrics!.callsPerSecond).toBeGreaterThan(0);
    expect(summary.metrics!.overheadMs.p50).toEqual(expect.any(Number));
    expect(summary.serversNote).toBeNull();
  });

  it('prints the same summary as text, with a table of sessions per user', async () => {
    const result = await runCli(['status', '--dir', dir], { env: NOWHERE });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ {2}clients {5}0 registered$/m);
    expect(result.stdout).toMatch(/^ {2}grants {6}0 active \(0 users\), 0 revoked$/m);
    expect(result.stdout).toMatch(/^ {2}tool calls {2}[\d.]+\/s \(3 in the last [\d.]+ s\); p50 [\d.]+ (?:µs|ms|s), p99 [\d.]+ (?:µs|ms|s)$/m);
    expect(result.stdout).toMatch(/^ {2}overhead {4}p50 [\d.]+ (?:µs|ms), p99 [\d.]+ (?:µs|ms) \(the gateway's own time per call\)$/m);
    expect(result.stdout).toMatch(/^echo +1 +http:\/\/127\.0\.0\.1:\d+\/echo\/mcp +healthy$/m);
    expect(result.stdout).toMatch(/^SERVER +USER +SUBJECT +SESSIONS\necho +alice +cli:alice +1$/m);
  });

  it('reports a summary it cannot read by code and hint, beside the rest, exit 0', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const result = await runCli(['status', '--dir', dir, '--json', '--url', nowhere], { env: NOWHERE });
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as EmbeddedStatus;
    expect(status.gateway?.health).toBe('ok');
    expect(status.summary).toBeNull();
    expect(status.summaryError).toMatchObject({ code: 'ERR_GATEWAY_UNREACHABLE', hint: expect.stringContaining('--url') });
    const text = await runCli(['status', '--dir', dir, '--url', nowhere], { env: NOWHERE });
    expect(text.stdout).toMatch(/^ {2}summary {5}unavailable: no gateway answers at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED$/m);
    expect(text.stdout).toMatch(/^ {14}hint: /m);
  });

  it('names a refused admin token ERR_ADMIN_DENIED', async () => {
    const tokenFile = join(dir, '.secrets', 'admin-token');
    const { readFile } = await import('node:fs/promises');
    const original = await readFile(tokenFile, 'utf8');
    await writeFile(tokenFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    try {
      const result = await runCli(['status', '--dir', dir, '--json'], { env: NOWHERE });
      expect(result.code).toBe(0);
      const status = JSON.parse(result.stdout) as EmbeddedStatus;
      expect(status.summary).toBeNull();
      expect(status.summaryError?.code).toBe('ERR_ADMIN_DENIED');
      expect(status.summaryError?.hint).toBeTruthy();
    } finally {
      await writeFile(tokenFile, original, { mode: 0o600 });
    }
  });

  it('says no serve runs once it stopped: no summary, exit 0, no stack', async () => {
    await serve.stop();
    const text = await runCli(['status', '--dir', dir], { env: NOWHERE });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`no mcp-gateway serve is running for ${dir} (start it with mcp-gateway serve --dir ${dir})`);
    expect(text.stdout).not.toMatch(/tool calls/);
    expect(text.stderr).not.toMatch(STACK_FRAME);
    const json = JSON.parse((await runCli(['status', '--dir', dir, '--json'], { env: NOWHERE })).stdout) as EmbeddedStatus;
    expect(json.gateway).toBeNull();
    expect('summary' in json).toBe(false);
  });

  it('refuses a malformed --url as a usage error (exit 2)', async () => {
    const result = await runCli(['status', '--dir', dir, '--url', 'not a url'], { env: NOWHERE });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });
});
