import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { LABEL_SPEC_HASH } from '../docker/labels.js';
import type { StackProject, StackReference, StackService, StackUpdateConfig } from './stack-model.js';
import { STACK_NAMESPACE } from './stack-names.js';

/** Swarm object IDs of the stack's secrets and configs by their key in stack.yaml, once they exist. */
export interface StackObjectIds {
  secrets: ReadonlyMap<string, string>;
  configs: ReadonlyMap<string, string>;
}

export interface BuiltServiceSpec {
  spec: Docker.ServiceSpec;
  /** Of everything but the IDs of secrets and configs (their names carry a content hash): the `io.mcp-gateway.spec-hash` label. */
  hash: string;
}

/**
 * One service of stack.yaml as the Docker API's ServiceSpec, the way `docker stack deploy`
 * converts it (docker/cli cli/compose/convert): `<project>_<key>` names, the key as the DNS alias
 * on each network, compose `command` as the container's Args (`entrypoint` is its Command), the
 * stack namespace label on the service and its containers. The spec hash label is what `up`
 * compares to decide whether a service changed: the engine fills in defaults, so the spec it
 * returns never equals the one sent.
 */
export function serviceSpec(stack: StackProject, service: StackService, ids: StackObjectIds): BuiltServiceSpec {
  const namespace = { [STACK_NAMESPACE]: stack.name };
  const reference = (kind: 'secrets' | 'configs', ref: StackReference) => {
    const object = stack[kind][ref.source];
    const id = ids[kind].get(ref.source);
    if (object === undefined || id === undefined) throw new TypeError(`${kind} ${ref.source} of ${service.key} was not created`);
    return { File: { Name: ref.target, UID: ref.uid ?? '0', GID: ref.gid ?? '0', Mode: ref.mode ?? 0o444 }, id, name: object.name };
  };
  const containerSpec: Docker.ContainerSpec = {
    Image: service.image,
    Labels: { ...service.containerLabels, ...namespace },
    ...(service.entrypoint === undefined ? {} : { Command: service.entrypoint }),
    ...(service.command === undefined ? {} : { Args: service.command }),
    Env: Object.entries(service.environment)
      .map(([key, value]) => `${key}=${value}`)
      .sort(),
    ...(service.workingDir === undefined ? {} : { Dir: service.workingDir }),
    ...(service.user === undefined ? {} : { User: service.user }),
    ...(service.init === undefined ? {} : { Init: service.init }),
    ...(service.readOnly === undefined ? {} : { ReadOnly: service.readOnly }),
    Mounts: service.mounts.map((mount): Docker.MountSettings => {
      if (mount.type === 'tmpfs')
        return { Type: 'tmpfs', Target: mount.target, Source: '', TmpfsOptions: { SizeBytes: mount.sizeBytes ?? 0, Mode: mount.mode ?? 0 } };
      if (mount.type === 'bind') return { Type: 'bind', Source: mount.source, Target: mount.target, ReadOnly: mount.readOnly };
      const volume = mount.source === undefined ? undefined : stack.volumes[mount.source];
      return {
        Type: 'volume',
        Source: volume?.name ?? '',
        Target: mount.target,
        ReadOnly: mount.readOnly,
        ...(volume === undefined
          ? {}
          : {
              VolumeOptions: {
                NoCopy: mount.noCopy,
                Labels: { ...volume.labels, ...namespace },
                DriverConfig: { Name: volume.driver ?? 'local', Options: volume.driverOpts },
              },
            }),
      };
    }),
    ...(service.stopGracePeriodNs === undefined ? {} : { StopGracePeriod: service.stopGracePeriodNs }),
    ...(service.healthcheck === undefined
      ? {}
      : {
          HealthCheck: {
            Test: service.healthcheck.test,
            ...(service.healthcheck.intervalNs === undefined ? {} : { Interval: service.healthcheck.intervalNs }),
            ...(service.healthcheck.timeoutNs === undefined ? {} : { Timeout: service.healthcheck.timeoutNs }),
            ...(service.healthcheck.startPeriodNs === undefined ? {} : { StartPeriod: service.healthcheck.startPeriodNs }),
            ...(service.healthcheck.retries === undefined ? {} : { Retries: service.healthcheck.retries }),
          },
        }),
    Secrets: service.secrets.map((ref) => {
      const { File, id, name } = reference('secrets', ref);
      return { File, SecretID: id, SecretName: name };
    }),
    Configs: service.configs.map((ref) => {
      const { File, id, name } = reference('configs', ref);
      return { File, ConfigID: id, ConfigName: name };
    }),
    ...(service.capDrop.length === 0 ? {} : { CapabilityDrop: service.capDrop }),
    ...(service.capAdd.length === 0 ? {} : { CapabilityAdd: service.capAdd }),
  };
  const { limits, restartPolicy, placement } = service;
  const taskTemplate: Docker.ContainerTaskSpec = {
    ContainerSpec: containerSpec,
    ...(limits === undefined
      ? {}
      : {
          Resources: {
            Limits: {
              ...(limits.nanoCpus === undefined ? {} : { NanoCPUs: limits.nanoCpus }),
              ...(limits.memoryBytes === undefined ? {} : { MemoryBytes: limits.memoryBytes }),
              ...(limits.pids === undefined ? {} : { Pids: limits.pids }),
            },
          },
        }),
    ...(restartPolicy === undefined
      ? {}
      : {
          RestartPolicy: {
            ...(restartPolicy.condition === undefined ? {} : { Condition: restartPolicy.condition }),
            ...(restartPolicy.delayNs === undefined ? {} : { Delay: restartPolicy.delayNs }),
            ...(restartPolicy.maxAttempts === undefined ? {} : { MaxAttempts: restartPolicy.maxAttempts }),
            ...(restartPolicy.windowNs === undefined ? {} : { Window: restartPolicy.windowNs }),
          },
        }),
    ...(placement === undefined
      ? {}
      : { Placement: { Constraints: placement.constraints, ...(placement.maxReplicas === undefined ? {} : { MaxReplicas: placement.maxReplicas }) } }),
    Networks: service.networks
      .map((key) => ({ Target: stack.networks[key]?.name ?? key, Aliases: [service.key] }))
      .sort((a, b) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0)),
  };
  const spec: Docker.ServiceSpec = {
    Name: service.name,
    Labels: { ...service.serviceLabels, ...namespace },
    TaskTemplate: taskTemplate,
    Mode: { Replicated: { Replicas: service.replicas } },
    ...(service.updateConfig === undefined ? {} : { UpdateConfig: updateConfig(service.updateConfig) }),
    ...(service.rollbackConfig === undefined ? {} : { RollbackConfig: updateConfig(service.rollbackConfig) }),
    EndpointSpec: {
      Mode: service.endpointMode,
      Ports: service.ports.map((port) => ({
        Protocol: port.protocol,
        TargetPort: port.target,
        ...(port.published === undefined ? {} : { PublishedPort: port.published }),
        PublishMode: port.mode,
      })),
    },
  };
  const hashed = JSON.stringify(spec, (key, value: unknown) => (key === 'SecretID' || key === 'ConfigID' ? undefined : value));
  const hash = createHash('sha256').update(hashed).digest('hex').slice(0, 16);
  spec.Labels = { ...spec.Labels, [LABEL_SPEC_HASH]: hash };
  return { spec, hash };
}

function updateConfig(config: StackUpdateConfig): Docker.UpdateConfig {
  return {
    Parallelism: config.parallelism,
    Order: config.order,
    ...(config.delayNs === undefined ? {} : { Delay: config.delayNs }),
    ...(config.failureAction === undefined ? {} : { FailureAction: config.failureAction }),
    ...(config.monitorNs === undefined ? {} : { Monitor: config.monitorNs }),
    ...(config.maxFailureRatio === undefined ? {} : { MaxFailureRatio: config.maxFailureRatio }),
  };
}
