import { isNameNotFound, type LookupAll, lookupAll } from '../http/lookup-all.js';
import type { Logger } from '../logger.js';

export interface TrustedProxyHostsOptions {
  /** Host names whose addresses are proxies of the deployment (`tasks.traefik` on a swarm). */
  names: readonly string[];
  logger: Logger;
  lookup?: LookupAll;
  /** How often the addresses are looked up again: a proxy task that is replaced comes back on another address. */
  refreshMs?: number;
}

export interface TrustedProxyHosts {
  /** Is this peer one of the named proxies (as of the last lookup)? */
  has(address: string): boolean;
  /** The first lookup of every name has finished (found or not). */
  ready: Promise<void>;
  close(): void;
}

/**
 * The addresses of proxies known by name, not by address: on a swarm Traefik's task gets an
 * overlay address nobody can write into the config, so the router (MCPGW_TRUSTED_PROXY_HOSTS)
 * trusts whatever `tasks.traefik` resolves to. Looked up in the background every `refreshMs`,
 * so a request only reads a set; a failed lookup keeps the last addresses and says so once.
 */
export function trustedProxyHosts({ names, logger, lookup = lookupAll, refreshMs = 5_000 }: TrustedProxyHostsOptions): TrustedProxyHosts {
  let known = new Set<string>();
  let warned = false;
  let running: Promise<void> | undefined;
  const refresh = (): Promise<void> => (running ??= lookUp().finally(() => (running = undefined)));
  async function lookUp(): Promise<void> {
    const next = new Set<string>();
    for (const name of names) {
      try {
        for (const { address } of await lookup(name)) next.add(address);
      } catch (err) {
        // A name that does not resolve (Traefik not running yet) trusts nobody under it; other errors keep what was known.
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (!isNameNotFound(err)) for (const address of known) next.add(address);
        if (!warned) {
          warned = true;
          logger.warn(
            { event: 'trusted_proxy_lookup_failed', name, code },
            `${name} did not resolve (${code || (err as Error).message}): requests from it are counted under its own address until it does`,
          );
        }
      }
    }
    known = next;
  }
  const ready = refresh();
  const timer = setInterval(() => void refresh(), refreshMs);
  timer.unref();
  return {
    has: (address) => known.has(address.startsWith('::ffff:') ? address.slice(7) : address),
    ready,
    close: () => clearInterval(timer),
  };
}
