import { isIP } from 'node:net';
import type { PinnedAddress } from './pinned-fetch.js';
import { forbiddenAddressReason } from './ssrf-guard.js';

/** Resolves a hostname to every address it has. */
export type HostLookup = (hostname: string) => Promise<PinnedAddress[]>;

/** What resolving a URL's host gave: the addresses to connect to (pinned), or why there are none to use. */
export type PinnedAddresses =
  | { ok: true; addresses: PinnedAddress[] }
  | { ok: false; kind: 'unresolved'; message: string; cause?: unknown }
  | { ok: false; kind: 'forbidden'; host: string; address: string; reason: string };

/**
 * The SSRF guard's DNS step for every outbound fetch of the auth runtime (client metadata
 * documents, remote servers' OAuth): a literal address as is, a name through `lookup`, and unless
 * private networks are allowed every answer checked, not just the first (a name that mixes public
 * and internal addresses is a rebinding setup, and the connection may use any of them). The
 * caller connects to these addresses only, and words the refusal for its own users.
 */
export async function pinnedAddresses(
  url: URL,
  { lookup, allowPrivateNetworks }: { lookup: HostLookup; allowPrivateNetworks: boolean },
): Promise<PinnedAddresses> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host);
  let addresses: PinnedAddress[];
  if (literal !== 0) {
    addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await lookup(host);
    } catch (err) {
      return {
        ok: false,
        kind: 'unresolved',
        message: `the host ${host} could not be resolved (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
        cause: err,
      };
    }
    if (addresses.length === 0) return { ok: false, kind: 'unresolved', message: `the host ${host} has no addresses` };
  }
  if (!allowPrivateNetworks) {
    for (const { address } of addresses) {
      const reason = forbiddenAddressReason(address);
      if (reason !== undefined) return { ok: false, kind: 'forbidden', host, address, reason };
    }
  }
  return { ok: true, addresses };
}

/** `promise`, or the signal's reason as soon as it aborts (DNS lookups cannot be cancelled themselves). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
