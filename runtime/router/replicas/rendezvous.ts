import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest random weight) hashing: each key goes to the replica whose hash with it is
 * highest, so while the set is unchanged a user always lands on the same replica (their warm
 * 2026-07-28 children are reused there), and when a replica joins or leaves only the users whose
 * top choice it was move. Returns the replicas best first, so a caller that cannot reach the
 * first tries the next the same way everywhere.
 */
export function rendezvousOrder(key: string, replicas: readonly string[]): string[] {
  return replicas
    .map((replica) => ({ replica, weight: createHash('sha256').update(key).update('\0').update(replica).digest().readBigUInt64BE(0) }))
    .sort((a, b) => (a.weight < b.weight ? 1 : a.weight > b.weight ? -1 : a.replica < b.replica ? -1 : 1))
    .map(({ replica }) => replica);
}
