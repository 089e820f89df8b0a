import { isIP } from 'node:net';
import proxyaddr from 'proxy-addr';
import { z } from 'zod';

/**
 * One entry of `trustedProxies`: an IP address or a CIDR range (`10.0.0.0/8`, `fd00::/8`), in
 * the one form proxy-addr, express and Traefik's `forwardedHeaders.trustedIPs` all read. Names
 * (`loopback`) and netmasks are not taken: Traefik would not understand them. A range of every
 * address (`/0`) is refused: it would let any client choose the address it is counted under.
 */
export const trustedProxy = z
  .string()
  .trim()
  .superRefine((text, ctx) => {
    const problem = trustedProxyProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });

function trustedProxyProblem(text: string): string | undefined {
  const [address = '', prefix, ...rest] = text.split('/');
  // No zone index (`fe80::1%eth0`): Node reads one, Traefik does not.
  const family = address.includes('%') ? 0 : isIP(address);
  if (family === 0 || rest.length > 0) return `${JSON.stringify(text.slice(0, 60))} is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, fd00::/8)`;
  if (prefix === undefined) return undefined;
  const bits = family === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) return `the prefix length of ${JSON.stringify(text.slice(0, 60))} must be 1-${bits}`;
  if (Number(prefix) === 0) return `${text} is every address: any client could then choose the address it is counted under; name your proxies' addresses`;
  // What passed must also be what proxy-addr matches, or the runtime could not start.
  try {
    proxyaddr.compile(text);
  } catch {
    return `${JSON.stringify(text.slice(0, 60))} is not an IP address or CIDR range proxy-addr can match`;
  }
  return undefined;
}
