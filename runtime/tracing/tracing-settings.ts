import { GatewayError } from '../errors.js';

/** The process environment, or a test's own: OTEL_* is process-wide, so nothing here reads `process.env` itself. */
export type OtelEnv = Readonly<Record<string, string | undefined>>;

/** OTEL_TRACES_SAMPLER, as the SDK's own env configuration names them. */
export type SamplerName = 'always_on' | 'always_off' | 'traceidratio' | 'parentbased_always_on' | 'parentbased_always_off' | 'parentbased_traceidratio';

/** What the OTEL_* variables ask for, read once at start (the tracer is built from this and nothing else). */
export interface TracingSettings {
  /** The OTLP/HTTP traces URL, `/v1/traces` included. */
  url: URL;
  headers: Readonly<Record<string, string>>;
  timeoutMs: number | undefined;
  /** OTEL_RESOURCE_ATTRIBUTES, then `service.name`. */
  resource: Readonly<Record<string, string>>;
  sampler: SamplerName;
  /** OTEL_TRACES_SAMPLER_ARG for the ratio samplers (default 1). */
  ratio: number;
  batch: { maxQueueSize?: number; maxExportBatchSize?: number; scheduledDelayMillis?: number; exportTimeoutMillis?: number };
  /** What could not be honoured and was replaced by the default (an unknown sampler, a ratio out of range): logged at start. */
  warnings: readonly string[];
}

const SAMPLERS: ReadonlySet<string> = new Set<SamplerName>([
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
]);

/** The OTLP/HTTP default (OpenTelemetry specification, "OTLP Exporter Configuration"). */
const DEFAULT_ENDPOINT = 'http://localhost:4318/';
const SPEC_HINT = 'see docs/tracing.md for the variables the gateway reads';

/**
 * Whether traces are on, and how: off (undefined) unless OTEL_TRACES_EXPORTER names `otlp` or an
 * OTLP endpoint is set; OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn them off whatever
 * else is set. A setting the gateway cannot honour (another exporter, gRPC) throws at start: the
 * operator asked for traces and would silently get none.
 */
export function tracingSettings(env: OtelEnv, defaultServiceName: string): TracingSettings | undefined {
  if (value(env, 'OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return undefined;
  const exporters = value(env, 'OTEL_TRACES_EXPORTER')
    ?.split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  const specific = value(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const generic = value(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (exporters !== undefined && exporters.length > 0) {
    if (exporters.includes('none')) return undefined;
    const other = exporters.find((name) => name !== 'otlp');
    if (other !== undefined) {
      throw new GatewayError('ERR_CONFIG_INVALID', `OTEL_TRACES_EXPORTER=${other} is not supported: the gateway exports traces over OTLP/HTTP only`, {
        hint: `set OTEL_TRACES_EXPORTER=otlp (or leave it unset) and OTEL_EXPORTER_OTLP_ENDPOINT to your collector; ${SPEC_HINT}`,
      });
    }
  } else if (specific === undefined && generic === undefined) {
    return undefined;
  }
  const protocol = value(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? value(env, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== undefined && protocol !== 'http/json' && protocol !== 'http/protobuf') {
    throw new GatewayError('ERR_CONFIG_INVALID', `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: the gateway exports traces over OTLP/HTTP`, {
      hint: `point OTEL_EXPORTER_OTLP_ENDPOINT at the collector's OTLP/HTTP port (4318) and set the protocol to http/json, or unset it; ${SPEC_HINT}`,
    });
  }
  const warnings: string[] = [];
  return {
    url: tracesUrl(specific, generic),
    headers: {
      ...keyValues(env, 'OTEL_EXPORTER_OTLP_HEADERS'),
      ...keyValues(env, 'OTEL_EXPORTER_OTLP_TRACES_HEADERS'),
    },
    timeoutMs: positive(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', warnings) ?? positive(env, 'OTEL_EXPORTER_OTLP_TIMEOUT', warnings),
    resource: resourceAttributes(env, defaultServiceName),
    ...samplerOf(env, warnings),
    batch: batchSettings(env, warnings),
    warnings,
  };
}

/** The signal-specific URL is used as is; the generic one gets `v1/traces` appended (the spec's rule, as the exporter applies it). */
function tracesUrl(specific: string | undefined, generic: string | undefined): URL {
  const [name, text] = specific !== undefined ? ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', specific] : ['OTEL_EXPORTER_OTLP_ENDPOINT', generic ?? DEFAULT_ENDPOINT];
  let url: URL;
  try {
    url = new URL(specific !== undefined ? text : `${text.endsWith('/') ? text : `${text}/`}v1/traces`);
  } catch {
    throw new GatewayError('ERR_CONFIG_INVALID', `${name}=${text} is not a URL`, { hint: `e.g. ${name}=http://otel-collector:4318; ${SPEC_HINT}` });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GatewayError('ERR_CONFIG_INVALID', `${name}=${text} must be an http(s) URL`, { hint: `e.g. ${name}=http://otel-collector:4318; ${SPEC_HINT}` });
  }
  return url;
}

function samplerOf(env: OtelEnv, warnings: string[]): { sampler: SamplerName; ratio: number } {
  const asked = value(env, 'OTEL_TRACES_SAMPLER')?.toLowerCase();
  let sampler: SamplerName = 'parentbased_always_on';
  if (asked !== undefined) {
    if (SAMPLERS.has(asked)) sampler = asked as SamplerName;
    else warnings.push(`OTEL_TRACES_SAMPLER=${asked} is not a sampler the gateway knows; using parentbased_always_on`);
  }
  if (!sampler.endsWith('traceidratio')) return { sampler, ratio: 1 };
  const arg = value(env, 'OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? 1 : Number(arg);
  if (!(ratio >= 0 && ratio <= 1)) {
    warnings.push(`OTEL_TRACES_SAMPLER_ARG=${arg} is not a ratio between 0 and 1; using 1`);
    return { sampler, ratio: 1 };
  }
  return { sampler, ratio };
}

/** OTEL_BSP_*: the BatchSpanProcessor's own variables, passed on from this env rather than read by the SDK from process.env. */
function batchSettings(env: OtelEnv, warnings: string[]): TracingSettings['batch'] {
  const batch: { -readonly [K in keyof TracingSettings['batch']]: number } = {};
  const names = [
    ['maxQueueSize', 'OTEL_BSP_MAX_QUEUE_SIZE'],
    ['maxExportBatchSize', 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
    ['scheduledDelayMillis', 'OTEL_BSP_SCHEDULE_DELAY'],
    ['exportTimeoutMillis', 'OTEL_BSP_EXPORT_TIMEOUT'],
  ] as const;
  for (const [key, name] of names) {
    const found = positive(env, name, warnings);
    if (found !== undefined) batch[key] = found;
  }
  return batch;
}

function resourceAttributes(env: OtelEnv, defaultServiceName: string): Record<string, string> {
  const attributes = keyValues(env, 'OTEL_RESOURCE_ATTRIBUTES');
  // OTEL_SERVICE_NAME wins over a service.name in OTEL_RESOURCE_ATTRIBUTES (the spec's precedence).
  attributes['service.name'] = value(env, 'OTEL_SERVICE_NAME') ?? attributes['service.name'] ?? defaultServiceName;
  return attributes;
}

/** `key1=value1,key2=value2`, values percent-decoded (the W3C Baggage format OTEL_*_HEADERS and OTEL_RESOURCE_ATTRIBUTES use). */
function keyValues(env: OtelEnv, name: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const pair of value(env, name)?.split(',') ?? []) {
    const at = pair.indexOf('=');
    const key = pair.slice(0, at).trim();
    if (at <= 0 || key === '') continue;
    const raw = pair.slice(at + 1).trim();
    try {
      found[key] = decodeURIComponent(raw);
    } catch {
      found[key] = raw;
    }
  }
  return found;
}

function positive(env: OtelEnv, name: string, warnings: string[]): number | undefined {
  const text = value(env, name);
  if (text === undefined) return undefined;
  const number = Number(text);
  if (Number.isFinite(number) && number > 0) return number;
  warnings.push(`${name}=${text} is not a positive number; ignored`);
  return undefined;
}

/** Set and not blank: an empty OTEL_* variable means unset (the spec's rule). */
function value(env: OtelEnv, name: string): string | undefined {
  const text = env[name]?.trim();
  return text === undefined || text === '' ? undefined : text;
}
