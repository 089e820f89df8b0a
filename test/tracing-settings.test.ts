import { describe, expect, it } from 'vitest';
import { GatewayError } from '../runtime/errors.js';
import { silentLogger } from '../runtime/logger.js';
import { startTracing } from '../runtime/tracing/start-tracing.js';
import { tracingSettings, type OtelEnv } from '../runtime/tracing/tracing-settings.js';

/* Which OTEL_* variables turn traces on, and what they are read as (runtime/tracing/tracing-settings.ts). */

const settings = (env: OtelEnv) => tracingSettings(env, 'mcp-gateway');

function codeOf(env: OtelEnv): string | undefined {
  try {
    settings(env);
    return undefined;
  } catch (err) {
    if (err instanceof GatewayError) return err.code;
    throw err;
  }
}

describe('tracing settings', () => {
  it('are off when no variable asks for traces, even with other OTEL_* variables set', () => {
    expect(settings({})).toBeUndefined();
    expect(settings({ OTEL_SERVICE_NAME: 'gw', OTEL_EXPORTER_OTLP_HEADERS: 'a=b', OTEL_TRACES_SAMPLER: 'always_on' })).toBeUndefined();
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_TRACES_EXPORTER: ' ' })).toBeUndefined();
  });

  it('are on with an OTLP endpoint, or with OTEL_TRACES_EXPORTER=otlp at the default endpoint', () => {
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })?.url.href).toBe('http://collector:4318/v1/traces');
    expect(settings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/otlp/' })?.url.href).toBe('http://collector:4318/otlp/v1/traces');
    // The signal-specific URL is used as it is.
    expect(settings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://x.example/traces', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://y:4318' })?.url.href).toBe(
      'https://x.example/traces',
    );
    expect(settings({ OTEL_TRACES_EXPORTER: 'otlp' })?.url.href).toBe('http://localhost:4318/v1/traces');
  });

  it('are off with OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none, whatever else is set', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(settings({ ...endpoint, OTEL_SDK_DISABLED: 'true' })).toBeUndefined();
    expect(settings({ ...endpoint, OTEL_SDK_DISABLED: 'TRUE' })).toBeUndefined();
    expect(settings({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' })).toBeUndefined();
    expect(settings({ ...endpoint, OTEL_TRACES_EXPORTER: 'otlp,none' })).toBeUndefined();
    expect(settings({ ...endpoint, OTEL_SDK_DISABLED: 'false' })).toBeDefined();
  });

  it('refuse at start what the gateway cannot export to: another exporter, gRPC, a URL that is not http(s)', () => {
    expect(codeOf({ OTEL_TRACES_EXPORTER: 'zipkin' })).toBe('ERR_CONFIG_INVALID');
    expect(codeOf({ OTEL_TRACES_EXPORTER: 'otlp,console' })).toBe('ERR_CONFIG_INVALID');
    expect(codeOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toBe('ERR_CONFIG_INVALID');
    expect(codeOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toBe('ERR_CONFIG_INVALID');
    expect(codeOf({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://c/v1/traces' })).toBe('ERR_CONFIG_INVALID');
    expect(codeOf({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' })).toBeUndefined();
  });

  it('read exporter headers percent-decoded, the traces-specific ones over the generic ones', () => {
    const found = settings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=generic,x-tenant=acme%20corp',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-api-key=traces, broken',
    });
    expect(found?.headers).toEqual({ 'x-api-key': 'traces', 'x-tenant': 'acme corp' });
  });

  it('name the service from OTEL_SERVICE_NAME, then OTEL_RESOURCE_ATTRIBUTES, then mcp-gateway', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(settings(endpoint)?.resource).toEqual({ 'service.name': 'mcp-gateway' });
    expect(settings({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,deployment.environment=prod' })?.resource).toEqual({
      'service.name': 'from-attrs',
      'deployment.environment': 'prod',
    });
    expect(settings({ ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs', OTEL_SERVICE_NAME: 'gw' })?.resource['service.name']).toBe('gw');
  });

  it('take the sampler from OTEL_TRACES_SAMPLER, falling back to parentbased_always_on with a warning', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' };
    expect(settings(endpoint)).toMatchObject({ sampler: 'parentbased_always_on', ratio: 1, warnings: [] });
    expect(settings({ ...endpoint, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })).toMatchObject({
      sampler: 'parentbased_traceidratio',
      ratio: 0.25,
    });
    const unknown = settings({ ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' });
    expect(unknown?.sampler).toBe('parentbased_always_on');
    expect(unknown?.warnings).toHaveLength(1);
    const outOfRange = settings({ ...endpoint, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' });
    expect(outOfRange).toMatchObject({ sampler: 'traceidratio', ratio: 1 });
    expect(outOfRange?.warnings).toHaveLength(1);
  });

  it('pass the batch processor and timeout variables on from the env given, not from process.env', () => {
    const found = settings({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BSP_MAX_QUEUE_SIZE: '4096',
      OTEL_BSP_EXPORT_TIMEOUT: '-1',
      OTEL_EXPORTER_OTLP_TIMEOUT: '2500',
    });
    expect(found?.batch).toEqual({ scheduledDelayMillis: 200, maxQueueSize: 4096 });
    expect(found?.timeoutMs).toBe(2500);
    expect(found?.warnings).toEqual(['OTEL_BSP_EXPORT_TIMEOUT=-1 is not a positive number; ignored']);
  });

  it('start no tracer when traces are off', async () => {
    expect(await startTracing({ env: { OTEL_SERVICE_NAME: 'gw' }, logger: silentLogger(), runtime: 'serve' })).toBeUndefined();
  });
});
