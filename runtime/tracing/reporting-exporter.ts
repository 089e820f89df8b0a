import { ExportResultCode } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../logger.js';

/**
 * The exporter, with its failures in the gateway's log: the SDK reports them only to its `diag`
 * logger, which nothing registers, so a collector that is down would go unnoticed. One line when
 * exports start failing and one when they work again, not one per batch.
 */
export function reportingExporter(exporter: SpanExporter, url: URL, logger: Logger): SpanExporter {
  // The origin and path only: a URL may carry credentials, and the headers (API keys) are never logged.
  const endpoint = `${url.origin}${url.pathname}`;
  let failing = false;
  return {
    export(spans, resultCallback) {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.SUCCESS) {
          if (failing) logger.info({ event: 'tracing_export_recovered', endpoint }, 'traces are exported again');
          failing = false;
        } else if (!failing) {
          failing = true;
          logger.warn(
            { event: 'tracing_export_failed', endpoint, err: result.error?.message },
            'traces could not be exported; spans are dropped until the collector answers',
          );
        }
        resultCallback(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}
