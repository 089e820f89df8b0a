import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../runtime/logger.js';
import { GatewayMetrics } from '../runtime/metrics/gateway-metrics.js';
import { mergeExpositions } from '../runtime/metrics/merge-exposition.js';
import { startMetricsListener } from '../runtime/metrics/metrics-endpoint.js';

/**
 * A replicated bridge's metrics through the router's relay (`/metrics/bridge-NAME`): every
 * replica read, each sample labelled with its replica, one HELP and TYPE per family, so
 * Prometheus keeps the replicas apart instead of seeing a different one at every scrape.
 */

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const logger = createLogger({ level: 'silent' });

/** promtool's verdict on a text exposition (exit 0: it parses, and lints clean). */
function promtool(text: string): { status: number | null; output: string } {
  const checked = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: checked.status, output: `${checked.stdout}${checked.stderr}` };
}

function requirePromtool(): boolean {
  if (hasPromtool) return true;
  if (process.env['CI']) throw new Error('promtool is required in CI: apt-get install -y prometheus');
  console.warn('skipping the promtool check: apt-get install -y prometheus');
  return false;
}

async function replicaText(calls: Array<[string, 'ok' | 'error']>, status: number): Promise<string> {
  const metrics = new GatewayMetrics({ defaults: false });
  metrics.learnTools('fs', ['read', 'write']);
  for (const [tool, outcome] of calls) metrics.toolCall('fs', tool, outcome, 12);
  metrics.httpRequest('mcp', status);
  return metrics.registry.metrics();
}

describe('merging replicas’ expositions', () => {
  it('keeps one HELP and TYPE per family and every sample of every replica, labelled; promtool accepts it where it refuses the plain concatenation', async () => {
    const a = await replicaText([['read', 'ok']], 200);
    const b = await replicaText(
      [
        ['write', 'error'],
        ['read', 'ok'],
      ],
      500,
    );
    const merged = mergeExpositions([
      { replica: '10.0.1.5', text: a },
      { replica: '10.0.1.6', text: b },
    ]);
    const types = merged.split('\n').filter((line) => line.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
    expect(types.length).toBe(a.split('\n').filter((line) => line.startsWith('# TYPE ')).length);
    expect(merged).toContain('mcp_gateway_tool_calls_total{replica="10.0.1.5",server="fs",tool="read",outcome="ok"} 1');
    expect(merged).toContain('mcp_gateway_tool_calls_total{replica="10.0.1.6",server="fs",tool="write",outcome="error"} 1');
    expect(merged).toContain('mcp_gateway_http_requests_total{replica="10.0.1.6",route="mcp",status="500"} 1');
    expect(merged).toMatch(/mcp_gateway_tool_call_duration_seconds_bucket\{replica="10\.0\.1\.6",le="[^"]+",server="fs"\} 2/);
    // Every sample line carries a replica, and no sample was lost or made up.
    const samples = (text: string) => text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
    expect(samples(merged).length).toBe(samples(a).length + samples(b).length);
    for (const line of samples(merged)) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*\{replica="10\.0\.1\.[56]"/);
    if (!requirePromtool()) return;
    expect(promtool(merged)).toMatchObject({ status: 0 });
    expect(promtool(`${a}${b}`).status).not.toBe(0);
  });

  it('labels samples without labels, with an empty label set, and before any TYPE; drops other comments and blank lines', () => {
    const text = ['# a comment', '', 'untyped_thing 3', '# HELP up_now Whether.', '# TYPE up_now gauge', 'up_now 1', 'up_now{} 2 1700000000000', ''].join('\n');
    expect(mergeExpositions([{ replica: 'r1', text }])).toBe(
      [
        'untyped_thing{replica="r1"} 3',
        '# HELP up_now Whether.',
        '# TYPE up_now gauge',
        'up_now{replica="r1"} 1',
        'up_now{replica="r1"} 2 1700000000000',
        '',
      ].join('\n'),
    );
  });

  it('escapes the replica in its label value, and ignores lines that are not samples', () => {
    const merged = mergeExpositions([{ replica: 'a"b\\c\nd', text: '{broken} 1\n x 2\nok 1\n' }]);
    expect(merged).toBe('ok{replica="a\\"b\\\\c\\nd"} 1\n');
  });
});

describe('the relay of a replicated runtime', () => {
  const listeners: Array<{ server: import('node:http').Server }> = [];
  afterEach(() => {
    for (const listener of listeners.splice(0)) {
      listener.server.close();
      listener.server.closeAllConnections();
    }
  });

  /** Two bridge replicas on one port, as on a swarm: 127.0.0.1 and 127.0.0.2, which Linux routes to loopback. */
  async function twoReplicas(): Promise<{ port: number; second: { server: import('node:http').Server } }> {
    const first = new GatewayMetrics({ defaults: false });
    first.httpRequest('mcp', 200);
    const one = await startMetricsListener(first, { host: '127.0.0.1', port: 0 }, logger);
    const second = new GatewayMetrics({ defaults: false });
    second.httpRequest('mcp', 503);
    const two = await startMetricsListener(second, { host: '127.0.0.2', port: one.address.port }, logger);
    listeners.push(one, two);
    return { port: one.address.port, second: two };
  }

  async function router(port: number, addresses: string[] | Error): Promise<string> {
    const lookup = async () => {
      if (addresses instanceof Error) throw addresses;
      return addresses.map((address) => ({ address }));
    };
    const relayed = new Map([['bridge-fs', `http://tasks.bridge-fs.invalid:${port}/metrics`]]);
    const listener = await startMetricsListener(new GatewayMetrics({ defaults: false }), { host: '127.0.0.1', port: 0 }, logger, relayed, lookup);
    listeners.push(listener);
    return `http://127.0.0.1:${listener.address.port}/metrics/bridge-fs`;
  }

  it('reads every replica the name resolves to and labels each sample with its address', async () => {
    const { port } = await twoReplicas();
    const answer = await fetch(await router(port, ['127.0.0.2', '127.0.0.1', '127.0.0.1']));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toContain('text/plain');
    const text = await answer.text();
    expect(text).toContain('mcp_gateway_http_requests_total{replica="127.0.0.1",route="mcp",status="200"} 1');
    expect(text).toContain('mcp_gateway_http_requests_total{replica="127.0.0.2",route="mcp",status="503"} 1');
    if (requirePromtool()) expect(promtool(text)).toMatchObject({ status: 0 });
  });

  it('leaves out a replica that does not answer, saying so in a comment; 502 when none answers or the name resolves to nothing', async () => {
    const { port, second } = await twoReplicas();
    second.server.close();
    second.server.closeAllConnections();
    const partial = await fetch(await router(port, ['127.0.0.1', '127.0.0.2']));
    expect(partial.status).toBe(200);
    const text = await partial.text();
    expect(text).toMatch(/^# mcp-gateway: replica 127\.0\.0\.2 did not answer/);
    expect(text).toContain('replica="127.0.0.1"');
    expect(text).not.toContain('replica="127.0.0.2",');
    if (requirePromtool()) expect(promtool(text)).toMatchObject({ status: 0 });

    const none = await fetch(await router(9, ['127.0.0.1', '127.0.0.2']));
    expect(none.status).toBe(502);
    const gone = await fetch(await router(port, Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' })));
    expect(gone.status).toBe(502);
    expect(((await gone.json()) as { error_description: string }).error_description).toContain('no replica of tasks.bridge-fs.invalid resolves');
  });

  it('relays a runtime with one address as it is, without a replica label (compose)', async () => {
    const { port } = await twoReplicas();
    const text = await (await fetch(await router(port, ['127.0.0.1']))).text();
    expect(text).toContain('mcp_gateway_http_requests_total{route="mcp",status="200"} 1');
    expect(text).not.toContain('replica=');
  });
});
