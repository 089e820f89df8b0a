import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import type { Logger } from '../logger.js';

/** The address of the client behind a request: what rate limits count per address and audit lines record. */
export type ClientAddress = (req: IncomingMessage) => string | undefined;

/** This connection's peer: a client that could have come through anything it likes is not believed about where it came from. */
export const peerAddress: ClientAddress = (req) => req.socket.remoteAddress;

export interface ClientAddressOptions {
  /** Hops always trusted, counted from this connection's peer: 1 for the auth runtime, which only the router or Traefik reaches. */
  trustedHops?: number;
  /** Proxies known by name rather than address (runtime/router/trusted-proxy-hosts.ts: Traefik's task on a swarm). */
  trustedPeer?: (address: string) => boolean;
}

/**
 * The client's address when requests come through proxies the operator trusts
 * (`trustedProxies`: IP addresses and CIDR ranges, e.g. the TLS proxy in front of `serve` or the
 * Ingress controller's pods): walking X-Forwarded-For from this connection's peer outwards, the
 * first address that is not a trusted proxy's (proxy-addr's walk, as express's `trust proxy`).
 * Entries left of it were written by the client and are never read. An entry that is not an IP
 * address (a trusted proxy passed on garbage, or a `host:port`) is not believed either: the
 * address is then the proxy that handed it over.
 */
export function clientAddress(trustedProxies: readonly string[], options: ClientAddressOptions = {}): ClientAddress {
  return clientAddressBy(proxyTrust(trustedProxies, options));
}

/** clientAddress for a trust already made (proxyTrust), for callers that also give it to express or the hint. */
export function clientAddressBy(trust: ProxyTrust | undefined): ClientAddress {
  if (trust === undefined) return peerAddress;
  return (req) => {
    // [peer, then X-Forwarded-For right to left], cut after the first address not trusted.
    const chain = proxyaddr.all(req, trust);
    for (let hop = chain.length - 1; hop > 0; hop--) if (isIP(chain[hop]!) !== 0) return chain[hop];
    return req.socket.remoteAddress;
  };
}

/** Is the address at this hop (0: the connection's peer) trusted to say who it forwards for? express's `trust proxy` function. */
export type ProxyTrust = (address: string, hop: number) => boolean;

/** Which hops are trusted to say who they forward for; undefined: none. */
export function proxyTrust(trustedProxies: readonly string[], { trustedHops = 0, trustedPeer }: ClientAddressOptions = {}): ProxyTrust | undefined {
  if (trustedProxies.length === 0 && trustedHops === 0 && trustedPeer === undefined) return undefined;
  const listed = trustedProxies.length === 0 ? () => false : proxyaddr.compile([...trustedProxies]);
  return (address, hop) => hop < trustedHops || listed(address, hop) || trustedPeer?.(address) === true;
}

/**
 * X-Forwarded-For from a peer nobody trusts is ignored. Once per process the log says so: a TLS
 * proxy the operator forgot to name in trustedProxies makes every client share its address in the
 * per-address limits and audit lines, and nothing else would tell them.
 */
export function ignoredForwardingHint(trust: ProxyTrust | undefined, logger: Logger): (req: IncomingMessage) => void {
  let told = false;
  return (req) => {
    if (told || req.headers['x-forwarded-for'] === undefined) return;
    const peer = req.socket.remoteAddress;
    if (peer === undefined || trust?.(peer, 0) === true) return;
    told = true;
    logger.warn(
      { event: 'forwarded_for_ignored', peer },
      `a request came with X-Forwarded-For from ${peer}, which trustedProxies does not name, so it was ignored: if that is your proxy, add its address to trustedProxies in mcp-gateway.yaml (until then every client behind it is counted as ${peer} in the rate limits and audit lines); if not, a client sent it`,
    );
  };
}
