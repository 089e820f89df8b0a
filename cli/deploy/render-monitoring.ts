import { stringify } from 'yaml';
import { METRICS_PORT } from '../../runtime/entrypoints/runtime-metrics.js';
import type { DeployPlan } from './deploy-plan.js';

export const PROMETHEUS_CONFIG_PATH = 'monitoring/prometheus.yml';
export const GRAFANA_DASHBOARD_PATH = 'monitoring/grafana-dashboard.json';

/**
 * The scrape config of the deployment: every runtime serves GET /metrics on port 9464 of its
 * project network (MCPGW_METRICS_LISTEN), never published. With the built-in router, a bridge's
 * metrics are read through the router (/metrics/bridge-NAME): Prometheus joins the project's
 * default network only, never a bridge's, where the X-User-* headers are trusted. Behind
 * Traefik there is no router of ours, so the bridges are listed directly, and the comment says
 * which networks that takes.
 */
export function renderPrometheusConfig(plan: DeployPlan): string {
  const target = (host: string) => `${host}:${METRICS_PORT}`;
  const networked = plan.bridges.filter((bridge) => bridge.relay === undefined);
  const bridgeJob =
    plan.router === 'builtin'
      ? {
          job_name: 'mcp-gateway-bridges',
          static_configs: networked.map((bridge) => ({
            targets: [target('router')],
            labels: { runtime: 'bridge', server: bridge.server, __metrics_path__: `/metrics/${bridge.service}` },
          })),
        }
      : {
          job_name: 'mcp-gateway-bridges',
          static_configs: networked.map((bridge) => ({ targets: [target(bridge.service)], labels: { runtime: 'bridge', server: bridge.server } })),
        };
  const jobs = [
    { job_name: 'mcp-gateway-auth', static_configs: [{ targets: [target('auth')], labels: { runtime: 'auth' } }] },
    ...(plan.router === 'builtin'
      ? [{ job_name: 'mcp-gateway-router', static_configs: [{ targets: [target('router')], labels: { runtime: 'router' } }] }]
      : []),
    ...(networked.length > 0 ? [bridgeJob] : []),
  ];
  const where =
    plan.router === 'builtin'
      ? `# Run Prometheus on the project's network (${plan.network}): auth and the router are reached there,\n# and each bridge's metrics through the router (/metrics/bridge-NAME).`
      : `# Run Prometheus on the project's network (${plan.network}) for auth, and on each bridge's network\n# (${networked.map((bridge) => `${plan.project}_${bridge.network}`).join(', ') || 'none'}) for the bridges: those networks trust X-User-* headers,\n# so attach only a scraper you trust.`;
  const skipped = plan.bridges.filter((bridge) => bridge.relay !== undefined).map((bridge) => bridge.server);
  return [
    '# Prometheus scrape config of this deployment, written by `mcp-gateway render`.',
    where,
    '# e.g. docker run --network <network> -v "$PWD/monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro" prom/prometheus',
    ...(skipped.length > 0 ? [`# Not scraped (network: none, no port to read): ${skipped.join(', ')}.`] : []),
    stringify({ global: { scrape_interval: '15s' }, scrape_configs: jobs }).trimEnd(),
    '',
  ].join('\n');
}

/** One Grafana time-series panel of a PromQL expression. */
function panel(id: number, title: string, expr: string, unit: string, x: number, y: number) {
  return {
    id,
    type: 'timeseries',
    title,
    gridPos: { h: 8, w: 12, x, y },
    datasource: { type: 'prometheus', uid: '$datasource' },
    fieldConfig: { defaults: { unit }, overrides: [] },
    targets: [{ refId: 'A', expr, legendFormat: '' }],
  };
}

/** A Grafana dashboard (import it, pick the Prometheus data source) over the series of gateway-metrics.ts. */
export function renderGrafanaDashboard(plan: DeployPlan): string {
  const panels = [
    panel(1, 'Tool calls/s by server and outcome', 'sum by (server, outcome) (rate(mcp_gateway_tool_calls_total[5m]))', 'reqps', 0, 0),
    panel(
      2,
      'Tool call p50 / p99 by server',
      'histogram_quantile(0.99, sum by (server, le) (rate(mcp_gateway_tool_call_duration_seconds_bucket[5m])))',
      's',
      12,
      0,
    ),
    panel(3, 'Gateway overhead p50 / p99', 'histogram_quantile(0.99, sum by (le) (rate(mcp_gateway_gateway_overhead_seconds_bucket[5m])))', 's', 0, 8),
    panel(4, 'Sessions and server processes', 'sum by (server) (mcp_gateway_sessions)', 'short', 12, 8),
    panel(5, 'HTTP requests/s by route and status', 'sum by (route, status) (rate(mcp_gateway_http_requests_total[5m]))', 'reqps', 0, 16),
    panel(6, 'Auth decisions/s', 'sum by (endpoint, decision) (rate(mcp_gateway_auth_decisions_total[5m]))', 'reqps', 12, 16),
    panel(7, 'Token refreshes/s by outcome', 'sum by (outcome) (rate(mcp_gateway_token_refreshes_total[5m]))', 'reqps', 0, 24),
    panel(8, 'Store errors/s', 'sum(rate(mcp_gateway_store_errors_total[5m]))', 'short', 12, 24),
  ];
  // The p50 beside each p99, and the processes beside the sessions.
  panels[1]!.targets.push({ refId: 'B', expr: panels[1]!.targets[0]!.expr.replace('0.99', '0.5'), legendFormat: 'p50 {{server}}' });
  panels[2]!.targets.push({ refId: 'B', expr: panels[2]!.targets[0]!.expr.replace('0.99', '0.5'), legendFormat: 'p50' });
  panels[3]!.targets.push({ refId: 'B', expr: 'sum by (server) (mcp_gateway_children)', legendFormat: 'processes {{server}}' });
  const dashboard = {
    title: `mcp-gateway (${plan.project})`,
    uid: `mcp-gateway-${plan.project}`.slice(0, 40),
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-6h', to: 'now' },
    refresh: '30s',
    templating: { list: [{ name: 'datasource', type: 'datasource', query: 'prometheus', label: 'Prometheus' }] },
    panels,
  };
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
