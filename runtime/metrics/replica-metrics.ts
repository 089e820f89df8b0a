import { isIP } from 'node:net';
import { isNameNotFound, type LookupAll, lookupAll } from '../http/lookup-all.js';
import { mergeExpositions } from './merge-exposition.js';

export interface ReplicaMetricsOptions {
  lookup?: LookupAll;
  timeoutMs?: number;
}

export interface RelayedMetrics {
  contentType: string;
  body: string;
}

/**
 * The metrics behind `url` (`http://tasks.bridge-NAME:9464/metrics` on a swarm, the headless
 * Service in Kubernetes, the one container in compose): one replica's text as it is; several
 * replicas' merged, each sample labelled `replica="<address>"` (merge-exposition.ts), so
 * Prometheus keeps them apart. A replica that does not answer is left out with a comment saying
 * so; none answering is an error.
 */
export async function replicaMetrics(url: string, { lookup = lookupAll, timeoutMs = 3_000 }: ReplicaMetricsOptions = {}): Promise<RelayedMetrics> {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) !== 0 ? [host] : await addressesOf(host, lookup);
  if (addresses.length === 0) throw new Error(`no replica of ${host} resolves`);
  const at = (address: string): string => {
    const url = new URL(target);
    url.hostname = isIP(address) === 6 ? `[${address}]` : address;
    return url.href;
  };
  // One replica (compose, or a server with replicas: 1): its text as it is, at the address just looked up.
  if (addresses.length === 1) return read(at(addresses[0]!), timeoutMs);
  const answers = await Promise.allSettled(addresses.map(async (address) => ({ replica: address, ...(await read(at(address), timeoutMs)) })));
  const answered = answers.flatMap((answer) => (answer.status === 'fulfilled' ? [answer.value] : []));
  if (answered.length === 0) throw (answers[0] as PromiseRejectedResult).reason;
  const missing = answers.flatMap((answer, i) =>
    answer.status === 'rejected' ? [`# mcp-gateway: replica ${addresses[i]} did not answer (${(answer.reason as Error).message})`] : [],
  );
  return {
    contentType: answered[0]!.contentType,
    body: `${missing.map((line) => `${line}\n`).join('')}${mergeExpositions(answered.map(({ replica, body }) => ({ replica, text: body })))}`,
  };
}

async function addressesOf(host: string, lookup: LookupAll): Promise<string[]> {
  try {
    return [...new Set((await lookup(host)).map(({ address }) => address))].sort();
  } catch (err) {
    if (isNameNotFound(err)) throw new Error(`no replica of ${host} resolves`);
    throw err;
  }
}

async function read(url: string, timeoutMs: number): Promise<RelayedMetrics> {
  const answer = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const body = await answer.text();
  if (answer.status !== 200) throw new Error(`HTTP ${answer.status}`);
  return { contentType: answer.headers.get('content-type') ?? 'text/plain', body };
}
