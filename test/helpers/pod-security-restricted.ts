import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { ISELinuxOptions } from 'kubernetes-models/v1/SELinuxOptions';

/**
 * The "restricted" Pod Security Standard (kubernetes.io/docs/concepts/security/pod-security-standards),
 * every baseline control included, as the Pod Security admission controller implements it
 * (kubernetes/pod-security-admission, policy/check_*.go): no cluster exists here to refuse a
 * pod, so this stands in for the namespace label `pod-security.kubernetes.io/enforce: restricted`.
 *
 * Where a control changed between Kubernetes versions, the strictest version is checked, so a
 * pod that passes is admitted by every cluster version: the safe sysctls and SELinux types of
 * 1.0, no relaxation for pods in a user namespace (hostUsers: false, 1.35). The documentation's
 * optional "non-root groups" control, which the admission controller does not enforce, is
 * checked too.
 */

/** A pod, or a workload's pod template: what admission sees of it. */
export interface PodLike {
  metadata?: { annotations?: Record<string, string> };
  spec: IPodSpec;
}

export interface Violation {
  /** The admission controller's check id (check_<id>.go), or `nonRootGroups` for the optional control. */
  check: string;
  detail: string;
}

type AnyContainer = Pick<IContainer, 'name' | 'securityContext' | 'ports' | 'livenessProbe' | 'readinessProbe' | 'startupProbe' | 'lifecycle'>;

/** containers, initContainers and ephemeralContainers, as visitContainers does. */
function containersOf(spec: IPodSpec): AnyContainer[] {
  return [...(spec.initContainers ?? []), ...spec.containers, ...(spec.ephemeralContainers ?? [])];
}

const RESTRICTED_VOLUME_TYPES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const GOOD_PROFILE_TYPES = new Set(['RuntimeDefault', 'Localhost']);

type Check = (pod: PodLike, containers: AnyContainer[]) => string[];

const checks: Record<string, Check> = {
  // Baseline.
  windowsHostProcess: ({ spec }, containers) => [
    ...(spec.securityContext?.windowsOptions?.hostProcess === true ? ['pod sets windowsOptions.hostProcess=true'] : []),
    ...containers.filter((c) => c.securityContext?.windowsOptions?.hostProcess === true).map((c) => `container ${c.name} sets windowsOptions.hostProcess=true`),
  ],
  hostNamespaces: ({ spec }) => (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((key) => spec[key] === true).map((key) => `${key}=true`),
  privileged: (_pod, containers) => containers.filter((c) => c.securityContext?.privileged === true).map((c) => `container ${c.name} sets privileged=true`),
  hostPorts: (_pod, containers) =>
    containers.flatMap((c) => (c.ports ?? []).filter((port) => (port.hostPort ?? 0) !== 0).map((port) => `container ${c.name} uses hostPort ${port.hostPort}`)),
  appArmorProfile: ({ metadata, spec }, containers) => [
    ...(spec.securityContext?.appArmorProfile !== undefined && !GOOD_PROFILE_TYPES.has(spec.securityContext.appArmorProfile.type)
      ? [`pod sets AppArmor profile ${spec.securityContext.appArmorProfile.type}`]
      : []),
    ...containers
      .filter((c) => c.securityContext?.appArmorProfile !== undefined && !GOOD_PROFILE_TYPES.has(c.securityContext.appArmorProfile.type))
      .map((c) => `container ${c.name} sets AppArmor profile ${c.securityContext?.appArmorProfile?.type}`),
    ...Object.entries(metadata?.annotations ?? {})
      .filter(
        ([key, value]) =>
          key.startsWith('container.apparmor.security.beta.kubernetes.io/') && !(value === '' || value === 'runtime/default' || value.startsWith('localhost/')),
      )
      .map(([key, value]) => `annotation ${key}=${value}`),
  ],
  seLinuxOptions: ({ spec }, containers) => {
    const bad = (options: ISELinuxOptions | undefined) =>
      options !== undefined && (!SELINUX_TYPES.has(options.type ?? '') || (options.user ?? '') !== '' || (options.role ?? '') !== '');
    return [
      ...(bad(spec.securityContext?.seLinuxOptions) ? ['pod sets forbidden seLinuxOptions'] : []),
      ...containers.filter((c) => bad(c.securityContext?.seLinuxOptions)).map((c) => `container ${c.name} sets forbidden seLinuxOptions`),
    ];
  },
  sysctls: ({ spec }) => (spec.securityContext?.sysctls ?? []).filter((sysctl) => !SAFE_SYSCTLS.has(sysctl.name)).map((sysctl) => `sysctl ${sysctl.name}`),
  hostProbesAndHostLifecycle: (_pod, containers) =>
    containers.flatMap((c) => {
      const hosts = (probe: Pick<IProbe, 'httpGet' | 'tcpSocket'> | undefined) =>
        [probe?.httpGet?.host, probe?.tcpSocket?.host].filter((host) => (host ?? '') !== '');
      const found = [c.livenessProbe, c.readinessProbe, c.startupProbe, c.lifecycle?.postStart, c.lifecycle?.preStop].flatMap(hosts);
      return found.length > 0 ? [`container ${c.name} probes or hooks host ${found.join(', ')}`] : [];
    }),
  // Restricted; each replaces the baseline check of the same concern (hostPathVolumes, capabilities_baseline, seccompProfile_baseline, procMount).
  restrictedVolumes: ({ spec }) =>
    (spec.volumes ?? [])
      .filter((volume) => !RESTRICTED_VOLUME_TYPES.some((type) => (volume as unknown as Record<string, unknown>)[type] !== undefined))
      .map((volume) => `volume ${volume.name} is of a type outside ${RESTRICTED_VOLUME_TYPES.join(', ')}`),
  procMount_restricted: (_pod, containers) =>
    containers
      .filter((c) => c.securityContext?.procMount !== undefined && c.securityContext.procMount !== 'Default')
      .map((c) => `container ${c.name} sets procMount`),
  allowPrivilegeEscalation: (_pod, containers) =>
    containers.filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => `container ${c.name} must set allowPrivilegeEscalation=false`),
  runAsNonRoot: ({ spec }, containers) => {
    const pod = spec.securityContext?.runAsNonRoot;
    return [
      ...(pod === false ? ['pod sets runAsNonRoot=false'] : []),
      ...containers
        .filter((c) => c.securityContext?.runAsNonRoot === false || (c.securityContext?.runAsNonRoot === undefined && pod !== true))
        .map((c) => `container ${c.name} (or the pod) must set runAsNonRoot=true`),
    ];
  },
  runAsUser: ({ spec }, containers) => [
    ...(spec.securityContext?.runAsUser === 0 ? ['pod sets runAsUser=0'] : []),
    ...containers.filter((c) => c.securityContext?.runAsUser === 0).map((c) => `container ${c.name} sets runAsUser=0`),
  ],
  seccompProfile_restricted: ({ spec }, containers) => {
    const pod = spec.securityContext?.seccompProfile;
    const podGood = pod !== undefined && GOOD_PROFILE_TYPES.has(pod.type);
    return [
      ...(pod !== undefined && !podGood ? [`pod sets seccompProfile ${pod.type}`] : []),
      ...containers
        .filter((c) => {
          const own = c.securityContext?.seccompProfile;
          return own === undefined ? !podGood : !GOOD_PROFILE_TYPES.has(own.type);
        })
        .map((c) => `container ${c.name} (or the pod) must set seccompProfile RuntimeDefault or Localhost`),
    ];
  },
  capabilities_restricted: (_pod, containers) =>
    containers.flatMap((c) => {
      const capabilities = c.securityContext?.capabilities;
      return [
        ...((capabilities?.drop ?? []).includes('ALL') ? [] : [`container ${c.name} must drop ALL capabilities`]),
        ...(capabilities?.add ?? []).filter((added) => added !== 'NET_BIND_SERVICE').map((added) => `container ${c.name} adds ${added}`),
      ];
    }),
  // The documentation's optional control: no root group, and a group set for every container.
  nonRootGroups: ({ spec }, containers) => {
    const pod = spec.securityContext;
    return [
      ...(pod?.runAsGroup === 0 || pod?.fsGroup === 0 || (pod?.supplementalGroups ?? []).includes(0) ? ['pod uses group 0'] : []),
      ...containers
        .filter((c) => c.securityContext?.runAsGroup === 0 || (c.securityContext?.runAsGroup === undefined && pod?.runAsGroup === undefined))
        .map((c) => `container ${c.name} (or the pod) must set a non-zero runAsGroup`),
    ];
  },
};

/** Every control the pod breaks; empty when the restricted profile admits it. */
export function restrictedViolations(pod: PodLike): Violation[] {
  const containers = containersOf(pod.spec);
  return Object.entries(checks).flatMap(([check, run]) => run(pod, containers).map((detail) => ({ check, detail })));
}
