import type { GatewayMetrics } from './gateway-metrics.js';

/**
 * The ForwardAuth verifier with each decision counted (`auth_decisions_total{endpoint="verify"}`):
 * one verifier serves the built-in router in-process and `/verify` for Traefik, so wrapping it
 * counts both. A verifier that throws (the store is down) counts as `unavailable`.
 */
export function verifierWithMetrics<Q, R extends { status: number }>(
  verify: (req: Q) => Promise<R>,
  metrics: Pick<GatewayMetrics, 'verifyDecision'>,
): (req: Q) => Promise<R> {
  return (req) =>
    verify(req).then(
      (result) => {
        metrics.verifyDecision(result.status);
        return result;
      },
      (err: unknown) => {
        metrics.verifyDecision(503);
        throw err;
      },
    );
}
