import { isLoopbackHost } from '../../runtime/config/schema.js';
import { pass, skip, warn, type CheckResult, type DoctorContext } from './doctor-check.js';

/**
 * Whether the proxy in front is named in `trustedProxies`. An https publicUrl in front of `serve`
 * or the built-in router (both plain HTTP) means a TLS proxy is there; unnamed, every client is
 * counted as that proxy in the per-address limits (one client's registrations can use up
 * everyone's) and in the audit lines, and nothing fails that would say so.
 */
export function checkProxy(ctx: DoctorContext): CheckResult {
  const { config } = ctx;
  const trusted = config.trustedProxies ?? [];
  if (trusted.length > 0) {
    return pass('proxy', `X-Forwarded-For is believed from ${trusted.join(', ')} only: clients behind them are counted by their own address`);
  }
  const url = config.publicUrl;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname.replace(/^\[|\]$/g, ''))) {
    return skip('proxy', `publicUrl ${url.origin} is plain HTTP on loopback: nothing is in front`);
  }
  const embedded = ctx.dockerReason === undefined;
  if (!embedded && config.deploy.router === 'traefik') {
    return skip('proxy', 'Traefik terminates TLS itself and is the hop auth believes; trustedProxies is for a load balancer in front of it');
  }
  const plain = embedded ? '`serve`' : 'the built-in router';
  return warn(
    'proxy',
    `publicUrl is https and ${plain} speaks plain HTTP, so a TLS proxy is in front, but trustedProxies names none: every client is counted as that proxy's address in the per-address limits and audit lines`,
    `add its address to mcp-gateway.yaml, e.g. trustedProxies: [127.0.0.1] for a proxy on this host${embedded ? '' : " (in Docker: the address the router sees it from, the peer of the router's forwarded_for_ignored log line)"}, then restart`,
  );
}
