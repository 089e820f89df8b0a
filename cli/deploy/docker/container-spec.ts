import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import type { ComposeProject, ComposeService } from './compose-model.js';
import { COMPOSE_NUMBER, COMPOSE_ONEOFF, COMPOSE_PROJECT, COMPOSE_SERVICE, LABEL_PROJECT, LABEL_SERVICE, LABEL_SPEC_HASH } from './labels.js';

/** What `up` creates for one service: the Docker API body, the networks joined after create, and its spec hash. */
export interface ContainerSpec {
  service: string;
  containerName: string;
  create: Docker.ContainerCreateOptions & { name: string; Labels: Record<string, string> };
  /** Networks beyond the first (the create call attaches one; Docker < 25 accepts no more). */
  extraNetworks: Array<{ network: string; aliases: string[] }>;
  /** sha256 of everything above plus the image ID: a change to any of it recreates the container. */
  hash: string;
}

/**
 * Translates one normalised compose service into a Docker `POST /containers/create` body (pure:
 * the env files are read by the caller). `env` is the service's final environment: its env
 * files in order, then `environment:`. The image ID is part of the hash so a rebuilt or
 * re-pulled image under the same tag recreates the container, as `docker compose up` does.
 */
export function containerSpec(project: ComposeProject, service: ComposeService, env: ReadonlyMap<string, string>, imageId: string): ContainerSpec {
  const networkName = (key: string): string => project.networks[key]?.name ?? `${project.name}_${key}`;
  const [primary, ...others] = service.networks;
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const port of service.ports) {
    const key = `${port.target}/${port.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: port.hostIp ?? '', HostPort: port.published === undefined ? '' : String(port.published) });
  }
  for (const port of service.expose) exposed[port.includes('/') ? port : `${port}/tcp`] = {};

  const binds: string[] = [];
  const mounts: Docker.MountSettings[] = [];
  const tmpfs: Record<string, string> = {};
  for (const mount of service.mounts) {
    if (mount.type === 'bind') binds.push(`${mount.source}:${mount.target}${mount.readOnly ? ':ro' : ''}`);
    else if (mount.type === 'tmpfs')
      tmpfs[mount.target] = [mount.sizeBytes === undefined ? '' : `size=${mount.sizeBytes}`, mount.mode === undefined ? '' : `mode=${mount.mode.toString(8)}`]
        .filter(Boolean)
        .join(',');
    else {
      const source = mount.source === undefined ? '' : (project.volumes[mount.source]?.name ?? `${project.name}_${mount.source}`);
      mounts.push({
        Type: 'volume',
        Source: source,
        Target: mount.target,
        ReadOnly: mount.readOnly,
        ...(mount.noCopy ? { VolumeOptions: { NoCopy: true } as Docker.MountSettings['VolumeOptions'] } : {}),
      });
    }
  }

  const labels: Record<string, string> = {
    ...service.labels,
    [LABEL_PROJECT]: project.name,
    [LABEL_SERVICE]: service.name,
    [COMPOSE_PROJECT]: project.name,
    [COMPOSE_SERVICE]: service.name,
    [COMPOSE_NUMBER]: '1',
    [COMPOSE_ONEOFF]: 'False',
  };
  const health = service.healthcheck;
  const hostConfig: Docker.HostConfig = {
    // `network_mode: none` has no networks, so no primary: Docker's `none` (loopback only).
    NetworkMode: service.networkMode ?? (primary === undefined ? 'none' : networkName(primary.key)),
    ...(binds.length > 0 ? { Binds: binds } : {}),
    ...(mounts.length > 0 ? { Mounts: mounts } : {}),
    ...(Object.keys(tmpfs).length > 0 ? { Tmpfs: tmpfs } : {}),
    ...(Object.keys(bindings).length > 0 ? { PortBindings: bindings } : {}),
    ...(service.restart
      ? {
          RestartPolicy: {
            Name: service.restart.name,
            ...(service.restart.maximumRetryCount === undefined ? {} : { MaximumRetryCount: service.restart.maximumRetryCount }),
          },
        }
      : {}),
    ...(service.readOnly ? { ReadonlyRootfs: true } : {}),
    ...(service.init === undefined ? {} : { Init: service.init }),
    ...(service.capAdd.length > 0 ? { CapAdd: service.capAdd } : {}),
    ...(service.capDrop.length > 0 ? { CapDrop: service.capDrop } : {}),
    ...(service.securityOpt.length > 0 ? { SecurityOpt: service.securityOpt } : {}),
    ...(service.extraHosts.length > 0 ? { ExtraHosts: service.extraHosts } : {}),
    ...(service.logging ? { LogConfig: { Type: service.logging.driver ?? 'json-file', Config: service.logging.options } } : {}),
    ...(service.memLimitBytes === undefined ? {} : { Memory: service.memLimitBytes }),
    ...(service.nanoCpus === undefined ? {} : { NanoCpus: service.nanoCpus }),
    ...(service.pidsLimit === undefined ? {} : { PidsLimit: service.pidsLimit }),
  };
  const create: ContainerSpec['create'] = {
    name: service.containerName,
    Image: service.image,
    Labels: labels,
    // Sorted: the order of variables means nothing to the process and must not change the hash.
    Env: [...env].map(([key, value]) => `${key}=${value}`).sort(),
    ...(service.command === undefined ? {} : { Cmd: service.command }),
    ...(service.entrypoint === undefined ? {} : { Entrypoint: service.entrypoint }),
    ...(service.hostname === undefined ? {} : { Hostname: service.hostname }),
    ...(service.user === undefined ? {} : { User: service.user }),
    ...(service.workingDir === undefined ? {} : { WorkingDir: service.workingDir }),
    ...(service.stopSignal === undefined ? {} : { StopSignal: service.stopSignal }),
    ...(service.stopGracePeriodNs === undefined ? {} : { StopTimeout: Math.ceil(service.stopGracePeriodNs / 1e9) }),
    ...(Object.keys(exposed).length > 0 ? { ExposedPorts: exposed } : {}),
    ...(health === undefined
      ? {}
      : {
          Healthcheck: {
            Test: health.test,
            ...(health.intervalNs === undefined ? {} : { Interval: health.intervalNs }),
            ...(health.timeoutNs === undefined ? {} : { Timeout: health.timeoutNs }),
            ...(health.startPeriodNs === undefined ? {} : { StartPeriod: health.startPeriodNs }),
            ...(health.startIntervalNs === undefined ? {} : { StartInterval: health.startIntervalNs }),
            ...(health.retries === undefined ? {} : { Retries: health.retries }),
          },
        }),
    HostConfig: hostConfig,
    ...(primary === undefined ? {} : { NetworkingConfig: { EndpointsConfig: { [networkName(primary.key)]: { Aliases: primary.aliases } } } }),
  };
  const extraNetworks = others.map((net) => ({ network: networkName(net.key), aliases: net.aliases }));
  const hash = createHash('sha256').update(canonicalJson({ create, extraNetworks, imageId })).digest('hex');
  create.Labels[LABEL_SPEC_HASH] = hash;
  return { service: service.name, containerName: service.containerName, create, extraNetworks, hash };
}

/** JSON with object keys sorted, so equal specs hash equally whatever order they were built in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
