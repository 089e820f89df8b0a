import type { IPodSecurityContext } from 'kubernetes-models/v1/PodSecurityContext';
import type { ISecurityContext } from 'kubernetes-models/v1/SecurityContext';

/** The user and group every pod runs as: numeric, so `runAsNonRoot` can be checked before the image is even pulled. */
export interface RuntimeIds {
  uid: number;
  gid: number;
}

/** What a pod runs as when `render` itself runs as root: root may not run a pod of the restricted profile. */
export const FALLBACK_ID = 1000;

/**
 * `uid:gid` of the compose containers (`render` uses its own user's, so ./logs stays the
 * operator's) as numeric ids for the pods, root (0) replaced by 1000: the restricted Pod Security
 * profile refuses runAsUser 0, and a pod's files are its own volumes, so no host file needs the
 * operator's id there. A name instead of a number is the caller's mistake.
 */
export function runtimeIds(user: string): RuntimeIds {
  const match = /^(\d+)(?::(\d+))?$/.exec(user);
  if (match === null) throw new TypeError(`the kubernetes target needs a numeric uid:gid, not ${JSON.stringify(user)}`);
  const uid = Number(match[1]);
  const gid = Number(match[2] ?? match[1]);
  return { uid: uid === 0 ? FALLBACK_ID : uid, gid: gid === 0 ? FALLBACK_ID : gid };
}

/**
 * The pod half of the restricted profile (kubernetes.io/docs/concepts/security/pod-security-standards):
 * never root, never root's group, the runtime's default seccomp filter. fsGroup makes the volumes
 * (Redis's claim) writable by that group; OnRootMismatch skips the recursive chown on every start.
 */
export function podSecurityContext({ uid, gid }: RuntimeIds): IPodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: gid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/**
 * The container half, which compose spells `read_only`, `cap_drop: [ALL]` and
 * `no-new-privileges`: a server that turns hostile can neither write its image nor gain a
 * capability through a setuid binary.
 */
export function containerSecurityContext(): ISecurityContext {
  return {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
  };
}
