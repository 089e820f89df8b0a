import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isNameNotFound } from '../../http/lookup-all.js';

/** Where one replica listens: `host:port`, `[v6]:port`. */
export type ReplicaAddress = string;

export interface ReplicaSet {
  /** The replicas that answer to the name now (cached for `refreshMs`). */
  current(): Promise<readonly ReplicaAddress[]>;
  /** Refused a connection a moment ago: tried after the others. */
  isDown(replica: ReplicaAddress): boolean;
  /** Could not connect: tried last for a while, and the name looked up again at the next call. */
  markDown(replica: ReplicaAddress): void;
  /** Answered that it drains (a rolling update): given no new session while it still answers to the name. */
  markDraining(replica: ReplicaAddress): void;
  /** Whether new sessions may go to it. */
  takesNewSessions(replica: ReplicaAddress): boolean;
}

export interface ReplicaSetOptions {
  /** Every replica's address now; by default the A/AAAA records of the target's host (dnsReplicas). */
  resolve: () => Promise<ReplicaAddress[]>;
  refreshMs?: number;
  /** How long a replica that refused a connection is left out. */
  downMs?: number;
  /** How long a draining replica gets no new session (longer than any drain period; it is gone from DNS by then). */
  drainingMs?: number;
  now?: () => number;
}

/** A host:port string for an address and port, bracketing IPv6. */
export function replicaAddress(host: string, port: number | string): ReplicaAddress {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Host and port of a replica address. */
export function splitReplica(replica: ReplicaAddress): { host: string; port: number } {
  const colon = replica.lastIndexOf(':');
  return { host: replica.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(replica.slice(colon + 1)) };
}

/**
 * Every address the bridge's name resolves to: in a swarm `tasks.bridge-NAME` (one A record per
 * running task, DNS round-robin, no VIP or IPVS needed), in Kubernetes the headless Service
 * `bridge-NAME` (one per ready pod), in compose the one container. No records: no replica.
 */
export function dnsReplicas(target: URL): () => Promise<ReplicaAddress[]> {
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const port = target.port === '' ? (target.protocol === 'https:' ? 443 : 80) : Number(target.port);
  return async () => {
    if (isIP(host) !== 0) return [replicaAddress(host, port)];
    try {
      const found = await lookup(host, { all: true });
      return [...new Set(found.map(({ address }) => replicaAddress(address, port)))].sort();
    } catch (err) {
      if (isNameNotFound(err)) return [];
      throw err;
    }
  };
}

/**
 * The replicas of one bridge service, looked up again at most every `refreshMs` (one lookup at a
 * time; callers in between get the last answer), so the per-request cost is a cached array.
 */
export function createReplicaSet({ resolve, refreshMs = 1_000, downMs = 3_000, drainingMs = 600_000, now = Date.now }: ReplicaSetOptions): ReplicaSet {
  let known: ReplicaAddress[] = [];
  let fetchedAt = Number.NEGATIVE_INFINITY;
  let pending: Promise<void> | undefined;
  const down = new Map<ReplicaAddress, number>();
  const draining = new Map<ReplicaAddress, number>();

  function refresh(): Promise<void> {
    pending ??= resolve()
      .then(
        (found) => {
          known = found;
        },
        () => {
          // The resolver failed (DNS hiccup): keep the last answer rather than route nowhere.
        },
      )
      .finally(() => {
        fetchedAt = now();
        pending = undefined;
      });
    return pending;
  }

  const live = (marks: Map<ReplicaAddress, number>, replica: ReplicaAddress): boolean => {
    const until = marks.get(replica);
    if (until === undefined) return true;
    if (until > now()) return false;
    marks.delete(replica);
    return true;
  };

  return {
    async current() {
      if (now() - fetchedAt >= refreshMs) await refresh();
      return known;
    },
    isDown(replica) {
      return !live(down, replica);
    },
    markDown(replica) {
      down.set(replica, now() + downMs);
      fetchedAt = Number.NEGATIVE_INFINITY;
    },
    markDraining(replica) {
      draining.set(replica, now() + drainingMs);
    },
    takesNewSessions(replica) {
      return live(draining, replica);
    },
  };
}
