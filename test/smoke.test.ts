import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmokeReport } from '../cli/commands/smoke.js';
import { STACK_FRAME, localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ECHO_FIXTURE } from './helpers/gateway-harness.js';
import { mcpInitialize } from './helpers/oauth-flow.js';
import { ServeProcess } from './helpers/serve-process.js';

/** A project with the local provider (no GitHub needed) and the given servers, `serve` running unless told not to. */
async function startProject(servers: Record<string, string>, { run = true } = {}): Promise<{ dir: string; publicUrl: string; serve?: ServeProcess }> {
  const dir = await makeTempDir('mcpgw-smoke-');
  const publicUrl = `http://127.0.0.1:${await freePort()}`;
  const init = await runCli(localInitArgs(dir, publicUrl));
  expect(init.code, init.stderr).toBe(0);
  for (const [name, command] of Object.entries(servers)) {
    const add = await runCli(['add-server', name, '--dir', dir, '--command', command]);
    expect(add.code, add.stderr).toBe(0);
  }
  if (!run) return { dir, publicUrl };
  const serve = new ServeProcess(['--dir', dir]);
  await serve.waitFor(/mcp-gateway is ready/);
  return { dir, publicUrl, serve };
}

/** A pass-through HTTP proxy that remembers every bearer token it forwarded: smoke's tokens, seen from outside. */
async function startRecordingProxy(target: string): Promise<{ url: string; tokens: Set<string>; close(): Promise<void> }> {
  const tokens = new Set<string>();
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer) tokens.add(bearer);
    const forward = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tokens,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const ECHO = `"${process.execPath}" "${ECHO_FIXTURE}"`;

describe('mcp-gateway smoke against a healthy gateway', () => {
  let project: Awaited<ReturnType<typeof startProject>>;
  beforeAll(async () => {
    project = await startProject({ echo: ECHO, other: ECHO });
  });
  afterAll(async () => {
    await project?.serve?.stop('SIGKILL');
    if (project) await removeTempDir(project.dir);
  });

  it('passes every server (exit 0) and says so in one table', async () => {
    const result = await runCli(['smoke', '--dir', project.dir]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^ {2}ok {4}echo {3}http:\/\/127\.0\.0\.1:\d+\/echo\/mcp {2}\d+ tools$/m);
    expect(result.stdout).toMatch(/^ {2}ok {4}other/m);
    expect(result.stdout).toContain('All 2 servers passed.');
    expect(result.stdout).toContain('The smoke tokens are revoked.');
  });

  it('reports every check in --json, through --url, and the tokens it used are revoked afterwards', async () => {
    const proxy = await startRecordingProxy(project.publicUrl);
    try {
      const result = await runCli(['smoke', '--dir', project.dir, '--url', proxy.url, '--json']);
      expect(result.code, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout) as SmokeReport;
      expect(report).toMatchObject({ ok: true, gateway: proxy.url, issuer: project.publicUrl, user: 'alice', failed: [], tokensRevoked: true });
      expect(report.servers.map((s) => s.server)).toEqual(['echo', 'other']);
      for (const server of report.servers) {
        expect(server.checks.map((c) => [c.check, c.ok])).toEqual([
          ['challenge', true],
          ['resource-metadata', true],
          ['authorization-server-metadata', true],
          ['initialize', true],
          ['tools/list', true],
        ]);
        expect(server.tools).toBeGreaterThan(0);
      }
      // The admin API's revoke call carries the admin token; the rest are the smoke tokens (JWTs).
      const smokeTokens = [...proxy.tokens].filter((t) => t.split('.').length === 3);
      expect(smokeTokens).toHaveLength(2);
      for (const token of smokeTokens) {
        const audience = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { aud: string };
        const refused = await mcpInitialize(audience.aud, token);
        expect(refused.status).toBe(401);
        expect(refused.headers.get('www-authenticate')).toContain('the token was revoked');
      }
    } finally {
      await proxy.close();
    }
  });

  it('refuses a user off the allowlist before minting anything', async () => {
    const result = await runCli(['smoke', '--dir', project.dir, '--user', 'mallory']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/mallory is not on the allowlist/);
  });
});

describe('mcp-gateway smoke against a broken server', () => {
  let project: Awaited<ReturnType<typeof startProject>>;
  let fixtures: string;
  beforeAll(async () => {
    fixtures = await makeTempDir('mcpgw-smoke-fixture-');
    const exitsAtOnce = join(fixtures, 'exits-at-once.mjs');
    await writeFile(exitsAtOnce, 'process.exit(3);\n');
    project = await startProject({ echo: ECHO, broken: `"${process.execPath}" "${exitsAtOnce}"` });
  });
  afterAll(async () => {
    await project?.serve?.stop('SIGKILL');
    if (project) await removeTempDir(project.dir);
    if (fixtures) await removeTempDir(fixtures);
  });

  it('exits 1 naming the failing server, with the check that failed', async () => {
    const result = await runCli(['smoke', '--dir', project.dir]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}ok {4}echo/m);
    expect(result.stdout).toMatch(/^ {2}FAIL {2}broken/m);
    expect(result.stdout).toMatch(/^ +initialize: .*exited/m);
    expect(result.stderr).toMatch(/^error: smoke check failed for broken$/m);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('names it in the --json report too', async () => {
    const result = await runCli(['smoke', '--dir', project.dir, '--json']);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as SmokeReport;
    expect(report.ok).toBe(false);
    expect(report.failed).toEqual(['broken']);
    const broken = report.servers.find((s) => s.server === 'broken')!;
    // The gateway in front is fine: only the server behind it fails.
    expect(broken.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(['initialize', 'tools/list']);
  });
});

describe('mcp-gateway smoke without a gateway', () => {
  it('exits 1 with one clear line when nothing answers', async () => {
    const project = await startProject({ echo: ECHO }, { run: false });
    try {
      const result = await runCli(['smoke', '--dir', project.dir]);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^error: no gateway answers at ${project.publicUrl.replace(/\./g, '\\.')}: ECONNREFUSED$`, 'm'));
      expect(result.stderr).toMatch(/^hint: start it/m);
      expect(result.stdout).toBe('');
    } finally {
      await removeTempDir(project.dir);
    }
  });
});

describe('mcp-gateway smoke with a remote server that has its own OAuth', () => {
  let project: Awaited<ReturnType<typeof startProject>>;
  beforeAll(async () => {
    project = await startProject({ echo: ECHO }, { run: false });
    // Never contacted: a user with no upstream grant is answered by the gateway itself.
    const add = await runCli(['add-server', 'linear', '--dir', project.dir, '--url', 'https://remote.invalid/mcp', '--oauth']);
    expect(add.code, add.stderr).toBe(0);
    project.serve = new ServeProcess(['--dir', project.dir]);
    await project.serve.waitFor(/mcp-gateway is ready/);
  });
  afterAll(async () => {
    await project?.serve?.stop('SIGKILL');
    if (project) await removeTempDir(project.dir);
  });

  it("passes it when a user who has not connected it meets the gateway's challenge, without listing its tools", async () => {
    const result = await runCli(['smoke', '--dir', project.dir, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as SmokeReport;
    const linear = report.servers.find((s) => s.server === 'linear')!;
    expect(linear).toMatchObject({ ok: true, tools: null });
    expect(linear.checks.map((c) => c.check)).toEqual(['challenge', 'resource-metadata', 'authorization-server-metadata', 'upstream-oauth']);
  });
});
