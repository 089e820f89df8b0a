import { ROOT_CONTEXT, SpanKind, SpanStatusCode, defaultTextMapGetter, defaultTextMapSetter } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../logger.js';
import type { GatewayTracing } from './gateway-tracing.js';
import { endHttpSpan, httpMethod, SpanScope } from './otel-spans.js';
import { bindTrace, traceOf } from './request-trace.js';
import { reportingExporter } from './reporting-exporter.js';
import type { TracingSettings } from './tracing-settings.js';

/** What shutdown waits for the last export: under the container runtimes' stop budget (Docker's 10 s, 8 of them for draining). */
const SHUTDOWN_BOUND_MS = 3_000;

export interface OtelTracingOptions {
  logger: Logger;
  /** Resource attributes of this process beyond the settings' (which runtime it is). */
  resource: Readonly<Record<string, string>>;
}

/**
 * The gateway's tracer: an OTLP/HTTP exporter (JSON) behind a BatchSpanProcessor, the sampler
 * OTEL_TRACES_SAMPLER names, W3C Trace Context in and out. The provider is not registered
 * globally and no context manager is installed: spans get their parent passed in, so nothing
 * else in the process (the MCP SDK, a library with its own instrumentation) starts tracing or
 * pays for a context manager.
 */
export function createOtelTracing(settings: TracingSettings, { logger, resource }: OtelTracingOptions): GatewayTracing {
  const exporter = new OTLPTraceExporter({
    url: settings.url.href,
    headers: { ...settings.headers },
    ...(settings.timeoutMs === undefined ? {} : { timeoutMillis: settings.timeoutMs }),
  });
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ ...settings.resource, ...resource })),
    sampler: samplerOf(settings),
    spanProcessors: [new BatchSpanProcessor(reportingExporter(exporter, settings.url, logger), settings.batch)],
  });
  const tracer = provider.getTracer('mcp-gateway');
  const propagator = new W3CTraceContextPropagator();
  let stopping: Promise<void> | undefined;

  return {
    request(req, res, server, route) {
      // A malformed traceparent extracts to nothing: the request starts a trace of its own.
      const parent = propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const span = tracer.startSpan(
        'mcp.request',
        { kind: SpanKind.SERVER, attributes: { 'http.request.method': httpMethod(req.method), 'http.route': route, 'mcp.server': server } },
        parent,
      );
      const scope = new SpanScope(span, tracer, propagator, server);
      delete req.headers['traceparent'];
      delete req.headers['tracestate'];
      propagator.inject(scope.context, req.headers, defaultTextMapSetter);
      bindTrace(req, scope);
      res.once('close', () => endHttpSpan(span, res));
      return {
        verify(check) {
          if (!scope.recording) return check();
          const verify = tracer.startSpan('mcp.verify', { kind: SpanKind.INTERNAL, attributes: { 'mcp.server': server } }, scope.context);
          return check().then(
            (result) => {
              verify.setAttribute('mcp.verify.status', result.status);
              verify.end();
              return result;
            },
            (err: unknown) => {
              // The reason is the router's log line; the span says only that the check failed.
              verify.setAttribute('error.type', 'verify_failed');
              verify.setStatus({ code: SpanStatusCode.ERROR });
              verify.end();
              throw err;
            },
          );
        },
      };
    },
    bridge(req, res, server) {
      const routed = traceOf(req);
      const inProcess = routed instanceof SpanScope;
      // Not sampled at the router: the router's scope stays bound, and records nothing either.
      if (inProcess && !routed.recording) return;
      const parent = inProcess ? routed.context : propagator.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
      const span = tracer.startSpan(
        'mcp.bridge',
        { kind: inProcess ? SpanKind.INTERNAL : SpanKind.SERVER, attributes: { 'http.request.method': httpMethod(req.method), 'mcp.server': server } },
        parent,
      );
      const scope = new SpanScope(span, tracer, propagator, server);
      bindTrace(req, scope);
      res.once('close', () => {
        scope.settle(res);
        endHttpSpan(span, res);
      });
    },
    shutdown() {
      stopping ??= (async () => {
        let timer: NodeJS.Timeout | undefined;
        const bound = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), SHUTDOWN_BOUND_MS);
        });
        const done = provider.shutdown().then(
          () => 'done' as const,
          () => 'done' as const,
        );
        const outcome = await Promise.race([done, bound]);
        clearTimeout(timer);
        if (outcome === 'timeout') logger.warn({ event: 'tracing_flush_timeout', boundMs: SHUTDOWN_BOUND_MS }, 'the last spans were not exported in time');
      })();
      return stopping;
    },
  };
}

/** OTEL_TRACES_SAMPLER's samplers, built from the settings' env rather than by the SDK from process.env. */
function samplerOf({ sampler, ratio }: TracingSettings): Sampler {
  switch (sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}
