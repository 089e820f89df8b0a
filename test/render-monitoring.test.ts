import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createLogger } from '../runtime/logger.js';
import { GatewayMetrics } from '../runtime/metrics/gateway-metrics.js';
import { startMetricsListener } from '../runtime/metrics/metrics-endpoint.js';
import { renderSampleFiles, sampleConfig } from './helpers/deploy-fixtures.js';

/*
 * What `render` writes for monitoring (monitoring/prometheus.yml, monitoring/grafana-dashboard.json),
 * checked by promtool (the Prometheus package), and the router's relay of each bridge's metrics.
 */

const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const work = mkdtempSync(join(tmpdir(), 'mcpgw-monitoring-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const OUR_METRICS = /mcp_gateway_[a-z_]+/g;

interface ScrapeConfig {
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[]; labels: Record<string, string> }> }>;
}

describe('the monitoring files of the deploy folder', () => {
  for (const router of ['builtin', 'traefik'] as const) {
    it(`writes a scrape config promtool accepts, and a dashboard of our series (${router} router)`, async () => {
      const files = await renderSampleFiles(sampleConfig({ routing: 'path', router }));
      const text = files.get('monitoring/prometheus.yml')!;
      const config = parse(text) as ScrapeConfig;
      const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, job.static_configs]));
      expect(jobs['mcp-gateway-auth']).toEqual([{ targets: ['auth:9464'], labels: { runtime: 'auth' } }]);
      const bridges = jobs['mcp-gateway-bridges']!;
      expect(bridges.length).toBeGreaterThan(0);
      if (router === 'builtin') {
        expect(jobs['mcp-gateway-router']).toEqual([{ targets: ['router:9464'], labels: { runtime: 'router' } }]);
        // Through the router: Prometheus never joins a bridge's network.
        for (const target of bridges) {
          expect(target.targets).toEqual(['router:9464']);
          expect(target.labels['__metrics_path__']).toBe(`/metrics/bridge-${target.labels['server']}`);
        }
      } else {
        expect(jobs['mcp-gateway-router']).toBeUndefined();
        for (const target of bridges) expect(target.targets).toEqual([`bridge-${target.labels['server']}:9464`]);
        expect(text).toContain('trust X-User-* headers');
      }
      if (hasPromtool) {
        const file = join(work, `prometheus-${router}.yml`);
        writeFileSync(file, text);
        const checked = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' });
        expect(checked.status, checked.stdout + checked.stderr).toBe(0);
      } else if (process.env['CI']) {
        throw new Error('promtool is required in CI: apt-get install -y prometheus');
      }

      const dashboard = JSON.parse(files.get('monitoring/grafana-dashboard.json')!) as { panels: Array<{ targets: Array<{ expr: string }> }> };
      const known = new Set((await new GatewayMetrics({ defaults: false }).registry.getMetricsAsJSON()).map((metric) => metric.name));
      const used = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => target.expr.match(OUR_METRICS) ?? []));
      expect(used.length).toBeGreaterThan(8);
      for (const name of used) expect(known.has(name.replace(/_(bucket|count|sum)$/, '')), name).toBe(true);
    });
  }
});

describe('the router relaying each bridge metrics', () => {
  it('serves a named runtime metrics, 404 for any other name, 502 when it is down', async () => {
    const logger = createLogger({ level: 'silent' });
    const bridgeMetrics = new GatewayMetrics({ defaults: false });
    bridgeMetrics.httpRequest('mcp', 200);
    const bridge = await startMetricsListener(bridgeMetrics, { host: '127.0.0.1', port: 0 }, logger);
    const relayed = new Map([
      ['bridge-fs', `http://127.0.0.1:${bridge.address.port}/metrics`],
      ['bridge-down', 'http://127.0.0.1:9/metrics'],
    ]);
    const router = await startMetricsListener(new GatewayMetrics({ defaults: false }), { host: '127.0.0.1', port: 0 }, logger, relayed);
    const base = `http://127.0.0.1:${router.address.port}`;
    try {
      const relayedText = await (await fetch(`${base}/metrics/bridge-fs`)).text();
      expect(relayedText).toContain('mcp_gateway_http_requests_total{route="mcp",status="200"} 1');
      expect((await fetch(`${base}/metrics`)).status).toBe(200);
      for (const path of ['/metrics/bridge-other', '/metrics/', '/metrics/bridge-fs/extra', '/metrics/..%2Fadmin', '/metrics/http:%2F%2F127.0.0.1']) {
        expect((await fetch(`${base}${path}`)).status, path).toBe(404);
      }
      expect((await fetch(`${base}/metrics/bridge-fs`, { method: 'POST' })).status).toBe(405);
      const down = await fetch(`${base}/metrics/bridge-down`);
      expect(down.status).toBe(502);
      expect(((await down.json()) as { error: string }).error).toBe('bad_gateway');
    } finally {
      for (const listener of [router, bridge]) {
        listener.server.close();
        listener.server.closeAllConnections();
      }
    }
  });
});
