import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { formatIssues } from '../../../runtime/config/config-issues.js';
import { GatewayError } from '../../../runtime/errors.js';
import { parseComposeDuration } from '../docker/compose-duration.js';
import { interpolate, InterpolationError, type Interpolated } from '../docker/compose-interpolation.js';
import type { Mount } from '../docker/compose-model.js';
import { withoutExtensions } from '../docker/compose-schema.js';
import { parseBytes } from '../docker/compose-short-syntax.js';
import type { StackProject, StackReference, StackService, StackUpdateConfig } from './stack-model.js';
import { stackObjectName } from './stack-names.js';
import { type RawStackService, stackBuildsSchema, stackFileSchema } from './stack-schema.js';

export interface LoadStackOptions {
  /** The stack namespace (the project name), as `docker stack deploy -c stack.yaml NAME` takes it. */
  project: string;
  /** For `${VAR}` interpolation; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Reads stack.yaml of a deploy folder rendered with --target swarm; every problem names its dotted path. */
export async function loadStack(file: string, options: LoadStackOptions): Promise<StackProject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new GatewayError('ERR_DEPLOY_NOT_RENDERED', `no stack file at ${file}`, {
        hint: 'run `mcp-gateway render --target swarm` (or `mcp-gateway up --target swarm`, which renders first)',
      });
    }
    throw err;
  }
  return parseStack(text, file, options);
}

export function parseStack(text: string, file: string, options: LoadStackOptions): StackProject {
  const doc = parseDocument(text, { uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) throw invalid(file, [doc.errors[0]!.message.split('\n')[0]!]);
  const js = (doc.toJS() ?? {}) as Record<string, unknown>;
  let interpolated: Interpolated<unknown>;
  let builds: Interpolated<unknown>;
  try {
    interpolated = interpolate(withoutExtensions(js), options.env ?? process.env);
    builds = interpolate(js['x-build'] ?? {}, options.env ?? process.env);
  } catch (err) {
    if (err instanceof InterpolationError) throw invalid(file, [err.message]);
    throw err;
  }
  const parsed = stackFileSchema.safeParse(interpolated.value ?? {});
  if (!parsed.success) throw invalid(file, formatIssues(parsed.error.issues));
  const parsedBuilds = stackBuildsSchema.safeParse(builds.value);
  if (!parsedBuilds.success)
    throw invalid(
      file,
      formatIssues(parsedBuilds.error.issues).map((problem) => `x-build.${problem}`),
    );
  const raw = parsed.data;
  const { project } = options;
  const dir = dirname(resolve(file));
  const problems: string[] = [];
  const at = (path: string, message: string): void => void problems.push(`${path}: ${message}`);
  const named = (key: string): string => stackObjectName(project, key);
  const path = (source: string): string => (isAbsolute(source) ? source : resolve(dir, source));

  const networks: StackProject['networks'] = {};
  for (const [key, entry] of Object.entries(raw.networks ?? {})) {
    networks[key] = { name: named(key), labels: entry?.labels ?? {}, attachable: entry?.attachable ?? false, internal: entry?.internal ?? false };
  }
  const volumes: StackProject['volumes'] = {};
  for (const [key, entry] of Object.entries(raw.volumes ?? {})) {
    volumes[key] = {
      name: named(key),
      ...(entry?.driver === undefined ? {} : { driver: entry.driver }),
      driverOpts: entry?.driver_opts ?? {},
      labels: entry?.labels ?? {},
    };
  }
  const fileObjects = (section: 'secrets' | 'configs') =>
    Object.fromEntries(
      Object.entries(raw[section] ?? {}).map(([key, entry]) => [key, { name: named(key), path: path(entry.file), labels: entry.labels ?? {} }]),
    );
  const secrets = fileObjects('secrets');
  const configs = fileObjects('configs');

  const services: StackService[] = [];
  for (const [key, service] of Object.entries(raw.services)) {
    const normalised = normaliseService(project, key, service, path, (field, message) => at(`services.${key}.${field}`, message));
    for (const network of normalised.networks) {
      if (network === 'default' && networks['default'] === undefined)
        networks['default'] = { name: named('default'), labels: {}, attachable: false, internal: false };
      if (networks[network] === undefined) at(`services.${key}.networks`, `${network} is not declared under top-level networks`);
    }
    for (const mount of normalised.mounts) {
      if (mount.type === 'volume' && mount.source !== undefined && volumes[mount.source] === undefined) {
        at(`services.${key}.volumes`, `${mount.source} is not declared under top-level volumes`);
      }
    }
    for (const ref of normalised.secrets)
      if (secrets[ref.source] === undefined) at(`services.${key}.secrets`, `${ref.source} is not declared under top-level secrets`);
    for (const ref of normalised.configs)
      if (configs[ref.source] === undefined) at(`services.${key}.configs`, `${ref.source} is not declared under top-level configs`);
    services.push(normalised);
  }
  if (problems.length > 0) throw invalid(file, problems);
  const buildEntries = Object.entries(parsedBuilds.data).map(([image, build]) => [
    image,
    {
      context: path(build.context),
      dockerfile: build.dockerfile,
      args: build.args ?? {},
      labels: {},
      ...(build.target === undefined ? {} : { target: build.target }),
    },
  ]);
  return {
    name: project,
    dir,
    services,
    networks,
    volumes,
    secrets,
    configs,
    builds: Object.fromEntries(buildEntries),
    unsetVariables: [...new Set([...interpolated.unset, ...builds.unset])],
  };
}

function normaliseService(
  project: string,
  key: string,
  raw: RawStackService,
  path: (source: string) => string,
  report: (field: string, message: string) => void,
): StackService {
  const ns = (text: string | undefined): number | undefined => (text === undefined ? undefined : parseComposeDuration(text));
  const mounts: Mount[] = (raw.volumes ?? []).map((mount, i): Mount => {
    if (mount.type === 'tmpfs') return { type: 'tmpfs', target: mount.target, ...(mount.tmpfs?.size === undefined ? {} : { sizeBytes: mount.tmpfs.size }) };
    if (mount.type === 'bind') {
      if (mount.source === undefined) report(`volumes[${i}].source`, 'a bind mount needs a source');
      return { type: 'bind', source: path(mount.source ?? ''), target: mount.target, readOnly: mount.read_only ?? false, createHostPath: false };
    }
    return {
      type: 'volume',
      ...(mount.source === undefined ? {} : { source: mount.source }),
      target: mount.target,
      readOnly: mount.read_only ?? false,
      noCopy: mount.volume?.nocopy ?? false,
    };
  });
  const deploy = raw.deploy ?? {};
  const limits = deploy.resources?.limits;
  const memoryBytes = limits?.memory === undefined ? undefined : parseBytes(limits.memory);
  if (limits?.memory !== undefined && memoryBytes === undefined) report('deploy.resources.limits.memory', `${limits.memory} is not a size (e.g. 512M, 1G)`);
  const update = (config: typeof deploy.update_config): StackUpdateConfig | undefined =>
    config === undefined
      ? undefined
      : {
          parallelism: config.parallelism ?? 1,
          order: config.order ?? 'stop-first',
          ...optional('delayNs', ns(config.delay)),
          ...optional('failureAction', config.failure_action),
          ...optional('monitorNs', ns(config.monitor)),
          ...optional('maxFailureRatio', config.max_failure_ratio),
        };
  const restart = deploy.restart_policy;
  const health = raw.healthcheck;
  const updateConfig = update(deploy.update_config);
  const rollbackConfig = update(deploy.rollback_config);
  return {
    key,
    name: stackObjectName(project, key),
    image: raw.image,
    ...optional('command', raw.command),
    ...optional('entrypoint', raw.entrypoint),
    ...optional('user', raw.user),
    ...optional('workingDir', raw.working_dir),
    environment: raw.environment ?? {},
    containerLabels: raw.labels ?? {},
    serviceLabels: deploy.labels ?? {},
    ...optional('init', raw.init),
    ...optional('readOnly', raw.read_only),
    capDrop: raw.cap_drop ?? [],
    capAdd: raw.cap_add ?? [],
    mounts,
    networks: raw.networks ?? ['default'],
    ports: (raw.ports ?? []).map((port) => ({ target: port.target, ...optional('published', port.published), protocol: port.protocol, mode: port.mode })),
    ...(health === undefined
      ? {}
      : {
          healthcheck: {
            test: health.test,
            ...optional('intervalNs', ns(health.interval)),
            ...optional('timeoutNs', ns(health.timeout)),
            ...optional('startPeriodNs', ns(health.start_period)),
            ...optional('retries', health.retries),
          },
        }),
    secrets: (raw.secrets ?? []).map((ref) => reference(ref, ref.source)),
    // A config without a target lands at /<key>, as stack deploy puts it.
    configs: (raw.configs ?? []).map((ref) => reference(ref, `/${ref.source}`)),
    ...optional('stopGracePeriodNs', ns(raw.stop_grace_period)),
    replicas: deploy.replicas ?? 1,
    endpointMode: deploy.endpoint_mode ?? 'vip',
    ...optional('updateConfig', updateConfig),
    ...optional('rollbackConfig', rollbackConfig),
    ...(restart === undefined
      ? {}
      : {
          restartPolicy: {
            ...optional('condition', restart.condition),
            ...optional('delayNs', ns(restart.delay)),
            ...optional('maxAttempts', restart.max_attempts),
            ...optional('windowNs', ns(restart.window)),
          },
        }),
    ...(limits === undefined
      ? {}
      : {
          limits: {
            ...optional('nanoCpus', limits.cpus === undefined ? undefined : Math.round(Number(limits.cpus) * 1e9)),
            ...optional('memoryBytes', memoryBytes),
            ...optional('pids', limits.pids),
          },
        }),
    ...(deploy.placement === undefined
      ? {}
      : { placement: { constraints: deploy.placement.constraints ?? [], ...optional('maxReplicas', deploy.placement.max_replicas_per_node) } }),
  };
}

function reference(ref: NonNullable<RawStackService['secrets']>[number], defaultTarget: string): StackReference {
  return { source: ref.source, target: ref.target ?? defaultTarget, ...optional('uid', ref.uid), ...optional('gid', ref.gid), ...optional('mode', ref.mode) };
}

/** `{ [key]: value }` when the value is there, `{}` otherwise (exactOptionalPropertyTypes: no `key: undefined`). */
function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function invalid(file: string, problems: string[]): GatewayError {
  return new GatewayError('ERR_COMPOSE_INVALID', `${file} cannot be deployed by mcp-gateway up --target swarm:\n  ${problems.join('\n  ')}`, {
    hint: 'render it again with `mcp-gateway render --target swarm` (hand edits must stay within what up translates), or deploy it with `docker stack deploy -c stack.yaml`',
  });
}
