import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { parse, stringify } from 'yaml';
import { ECHO_SERVER } from './helpers/bridge-harness.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { RawMcpSession } from './helpers/mcp-session.js';
import { ServeProcess } from './helpers/serve-process.js';

/*
 * A real Prometheus (the Debian package) scrapes a running `mcp-gateway serve` on its
 * metrics.listen address, and its HTTP API then answers queries for our series with the
 * counts of the calls this test made.
 */

const PROMETHEUS_MISSING = 'prometheus not found: install it (apt-get install -y prometheus) to run the Prometheus scrape test';
const hasPrometheus = spawnSync('prometheus', ['--version'], { stdio: 'ignore' }).status === 0;

function skipWithoutPrometheus(ctx: TestContext): boolean {
  if (hasPrometheus) return false;
  if (process.env['CI']) throw new Error(`Prometheus is required in CI: ${PROMETHEUS_MISSING}`);
  console.warn(`skipped: ${PROMETHEUS_MISSING}`);
  ctx.skip();
  return true;
}

interface QueryAnswer {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

describe('a real Prometheus scraping serve', () => {
  let dir: string;
  let promDir: string;
  let serve: ServeProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let promUrl: string;
  let publicUrl: string;

  beforeAll(async () => {
    if (!hasPrometheus) return;
    dir = await makeTempDir('mcpgw-prom-');
    promDir = await mkdtemp(join(tmpdir(), 'mcpgw-prometheus-'));
    publicUrl = `http://127.0.0.1:${await freePort()}`;
    const metricsPort = await freePort();
    expect((await runCli(localInitArgs(dir, publicUrl))).code).toBe(0);
    expect((await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_SERVER}"`])).code).toBe(0);
    const file = join(dir, 'mcp-gateway.yaml');
    const config = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    config['metrics'] = { listen: `127.0.0.1:${metricsPort}` };
    await writeFile(file, stringify(config));
    serve = new ServeProcess(['--dir', dir]);
    await serve.waitFor(/mcp-gateway is ready/);

    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const scrapeConfig = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [{ job_name: 'mcp-gateway', static_configs: [{ targets: [`127.0.0.1:${metricsPort}`] }] }],
    };
    await writeFile(join(promDir, 'prometheus.yml'), stringify(scrapeConfig));
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  }, 60_000);
  afterAll(async () => {
    if (prometheus?.pid !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('close', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await serve?.stop();
    if (dir !== undefined) await removeTempDir(dir);
    if (promDir !== undefined) await rm(promDir, { recursive: true, force: true });
  });

  async function query(expr: string): Promise<QueryAnswer['data']['result']> {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    if (!res.ok) return [];
    const answer = (await res.json()) as QueryAnswer;
    return answer.status === 'success' ? answer.data.result : [];
  }

  it('returns our series through its HTTP API after some calls', async (ctx) => {
    if (skipWithoutPrometheus(ctx)) return;
    const issued = await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'echo']);
    expect(issued.code, issued.stderr).toBe(0);
    const session = await RawMcpSession.open(`${publicUrl}/echo/mcp`, issued.stdout.trim().split('\n').at(-1)!);
    await session.listTools();
    for (let i = 0; i < 5; i++) expect((await session.callTool('echo', { text: `hi ${i}` })).answer.result).toBeDefined();
    await session.callTool('no_such_tool');

    const value = async (expr: string): Promise<number | undefined> => {
      const [first] = await query(expr);
      return first === undefined ? undefined : Number(first.value[1]);
    };
    await expect.poll(() => value('mcp_gateway_tool_calls_total{server="echo",tool="echo",outcome="ok"}'), { timeout: 30_000, interval: 500 }).toBe(5);
    expect(await value('mcp_gateway_tool_calls_total{server="echo",tool="_other",outcome="error"}')).toBe(1);
    expect(await value('up{job="mcp-gateway"}')).toBe(1);
    expect(await value('mcp_gateway_sessions{server="echo"}')).toBe(1);
    expect(await value('sum(mcp_gateway_tool_call_duration_seconds_count{server="echo"})')).toBe(6);
    expect(await value('mcp_gateway_gateway_overhead_seconds_count')).toBe(6);
    // Rates need two scrapes with the calls between them: one more call after the first scrape.
    expect((await session.callTool('echo', { text: 'after the first scrape' })).answer.result).toBeDefined();
    await expect
      .poll(() => value('increase(mcp_gateway_tool_calls_total{server="echo",tool="echo",outcome="ok"}[1m])'), { timeout: 30_000, interval: 500 })
      .toBeGreaterThan(0);
    expect(await value('process_resident_memory_bytes{job="mcp-gateway"}')).toBeGreaterThan(10_000_000);
    await session.close();
  }, 60_000);
});
