import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import { restrictedViolations, type PodLike } from './helpers/pod-security-restricted.js';

/*
 * The restricted-profile check of test/helpers/pod-security-restricted.ts on pods written by
 * hand: the rendered manifests passing it (render-kubernetes.test.ts) proves something only if
 * it refuses what the Pod Security admission controller refuses.
 */

/** The smallest pod the restricted profile admits. */
function goodPod(): PodLike & { spec: IPodSpec } {
  return {
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [{ name: 'app', image: 'app:1', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
      volumes: [{ name: 'tmp', emptyDir: {} }],
    },
  };
}

const checksOf = (pod: PodLike) => [...new Set(restrictedViolations(pod).map((v) => v.check))].sort();

describe('the restricted Pod Security check', () => {
  it('admits a minimal restricted pod, and NET_BIND_SERVICE as the one capability it may add', () => {
    expect(restrictedViolations(goodPod())).toEqual([]);
    const pod = goodPod();
    pod.spec.containers[0]!.securityContext!.capabilities!.add = ['NET_BIND_SERVICE'];
    expect(restrictedViolations(pod)).toEqual([]);
  });

  it('refuses a deliberately bad pod on every control it breaks', () => {
    const bad: PodLike = {
      metadata: { annotations: { 'container.apparmor.security.beta.kubernetes.io/app': 'unconfined' } },
      spec: {
        hostNetwork: true,
        hostPID: true,
        hostIPC: true,
        securityContext: {
          runAsUser: 0,
          runAsGroup: 0,
          seccompProfile: { type: 'Unconfined' },
          seLinuxOptions: { user: 'system_u', type: 'spc_t' },
          sysctls: [{ name: 'kernel.msgmax', value: '65536' }],
          windowsOptions: { hostProcess: true },
        },
        initContainers: [{ name: 'init', image: 'init:1' }],
        containers: [
          {
            name: 'app',
            image: 'app:1',
            ports: [{ containerPort: 80, hostPort: 80 }],
            livenessProbe: { httpGet: { host: '169.254.169.254', path: '/', port: 80 } },
            securityContext: {
              privileged: true,
              allowPrivilegeEscalation: true,
              runAsNonRoot: false,
              capabilities: { add: ['SYS_ADMIN'] },
              procMount: 'Unmasked',
              appArmorProfile: { type: 'Unconfined' },
            },
          },
        ],
        volumes: [
          { name: 'host', hostPath: { path: '/' } },
          { name: 'nfs', nfs: { server: 'nfs.example', path: '/' } },
        ],
      },
    };
    expect(checksOf(bad)).toEqual(
      [
        'allowPrivilegeEscalation',
        'appArmorProfile',
        'capabilities_restricted',
        'hostNamespaces',
        'hostPorts',
        'hostProbesAndHostLifecycle',
        'nonRootGroups',
        'privileged',
        'procMount_restricted',
        'restrictedVolumes',
        'runAsNonRoot',
        'runAsUser',
        'seLinuxOptions',
        'seccompProfile_restricted',
        'sysctls',
        'windowsHostProcess',
      ].sort(),
    );
    // The init container, which sets nothing, counts like any other.
    expect(restrictedViolations(bad).some((v) => v.check === 'capabilities_restricted' && v.detail.includes('init'))).toBe(true);
  });

  it.each<[string, (pod: PodLike & { spec: IPodSpec }) => void, string]>([
    ['runAsNonRoot left out', (pod) => delete pod.spec.securityContext!.runAsNonRoot, 'runAsNonRoot'],
    ['seccomp left out', (pod) => delete pod.spec.securityContext!.seccompProfile, 'seccompProfile_restricted'],
    ['capabilities not dropped', (pod) => delete pod.spec.containers[0]!.securityContext!.capabilities, 'capabilities_restricted'],
    [
      'allowPrivilegeEscalation left out (it defaults to true)',
      (pod) => delete pod.spec.containers[0]!.securityContext!.allowPrivilegeEscalation,
      'allowPrivilegeEscalation',
    ],
    ['a container running as root', (pod) => void (pod.spec.containers[0]!.securityContext!.runAsUser = 0), 'runAsUser'],
    ['a hostPath volume', (pod) => pod.spec.volumes!.push({ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }), 'restrictedVolumes'],
    [
      'an ephemeral container without a security context',
      (pod) => void (pod.spec.ephemeralContainers = [{ name: 'debug', image: 'busybox' }]),
      'allowPrivilegeEscalation',
    ],
  ])('refuses a good pod with %s', (_what, spoil, check) => {
    const pod = goodPod();
    spoil(pod);
    expect(checksOf(pod)).toContain(check);
  });
});
