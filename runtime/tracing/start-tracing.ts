import type { Logger } from '../logger.js';
import type { GatewayTracing } from './gateway-tracing.js';
import { tracingSettings, type OtelEnv } from './tracing-settings.js';

/** `service.name` when neither OTEL_SERVICE_NAME nor OTEL_RESOURCE_ATTRIBUTES names one: every runtime of one gateway is one service. */
export const DEFAULT_SERVICE_NAME = 'mcp-gateway';

export interface StartTracingOptions {
  /** The OTEL_* variables (process.env in `serve` and the containers; a test passes its own). */
  env: OtelEnv;
  logger: Logger;
  /** Which process this is, as the resource attribute `mcp_gateway.runtime`: `serve`, `router` or `bridge`. */
  runtime: 'serve' | 'router' | 'bridge';
  /** The server of a bridge container (resource attribute `mcp.server`). */
  server?: string;
}

/**
 * The tracer the OTEL_* variables ask for, or undefined when they ask for none (the default):
 * then the OpenTelemetry SDK is never imported. Throws a GatewayError at start for a setting it
 * cannot honour (tracing-settings.ts).
 */
export async function startTracing({ env, logger, runtime, server }: StartTracingOptions): Promise<GatewayTracing | undefined> {
  const settings = tracingSettings(env, DEFAULT_SERVICE_NAME);
  if (settings === undefined) return undefined;
  for (const warning of settings.warnings) logger.warn({ event: 'tracing_setting_ignored' }, warning);
  const { createOtelTracing } = await import('./otel-tracing.js');
  const tracing = createOtelTracing(settings, {
    logger,
    resource: { 'mcp_gateway.runtime': runtime, ...(server === undefined ? {} : { 'mcp.server': server }) },
  });
  logger.info(
    {
      event: 'tracing_started',
      endpoint: `${settings.url.origin}${settings.url.pathname}`,
      service: settings.resource['service.name'],
      sampler: settings.sampler,
    },
    'exporting traces over OTLP/HTTP',
  );
  return tracing;
}
