import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parse as parseWords } from 'shell-quote';
import { parseDocument } from 'yaml';
import { formatIssues } from '../../../runtime/config/config-issues.js';
import { GatewayError } from '../../../runtime/errors.js';
import { parseComposeDuration } from './compose-duration.js';
import { interpolate, InterpolationError, type Interpolated } from './compose-interpolation.js';
import type { ComposeProject, ComposeResource, ComposeService, DependencyCondition, Mount } from './compose-model.js';
import { parseBytes, parseMount, parsePort } from './compose-short-syntax.js';
import { composeFileSchema, withoutExtensions, type RawComposeService } from './compose-schema.js';

export interface LoadComposeOptions {
  /** For `${VAR}` interpolation and value-less `environment:` entries; defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Used when compose.yaml has no `name:`. */
  projectName?: string;
}

/** Reads `compose.yaml` of a rendered deploy folder into the typed model; every problem names its dotted path. */
export async function loadComposeProject(file: string, options: LoadComposeOptions = {}): Promise<ComposeProject> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new GatewayError('ERR_DEPLOY_NOT_RENDERED', `no compose file at ${file}`, {
        hint: 'run `mcp-gateway render` (or `mcp-gateway up`, which renders first)',
      });
    }
    throw err;
  }
  return parseComposeProject(text, file, options);
}

export function parseComposeProject(text: string, file: string, options: LoadComposeOptions = {}): ComposeProject {
  const doc = parseDocument(text, { uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) throw invalid(file, [doc.errors[0]!.message.split('\n')[0]!]);
  let interpolated: Interpolated<unknown>;
  try {
    interpolated = interpolate(withoutExtensions(doc.toJS()), options.env ?? process.env);
  } catch (err) {
    if (err instanceof InterpolationError) throw invalid(file, [err.message]);
    throw err;
  }
  const parsed = composeFileSchema.safeParse(interpolated.value ?? {});
  if (!parsed.success) throw invalid(file, formatIssues(parsed.error.issues));
  const raw = parsed.data;
  const name = raw.name ?? options.projectName;
  if (name === undefined) throw invalid(file, ['name: required (the project name)']);
  const dir = dirname(resolve(file));
  const problems: string[] = [];

  const resource = (kind: 'networks' | 'volumes', key: string): ComposeResource => {
    const entry = raw[kind]?.[key] ?? {};
    return {
      name: entry.name ?? (entry.external ? key : `${name}_${key}`),
      ...(entry.driver === undefined ? {} : { driver: entry.driver }),
      driverOpts: entry.driver_opts ?? {},
      labels: toMap(entry.labels),
      external: entry.external ?? false,
      internal: 'internal' in entry && entry.internal === true,
    };
  };
  const networks: Record<string, ComposeResource> = {};
  const volumes: Record<string, ComposeResource> = {};
  for (const key of Object.keys(raw.networks ?? {})) networks[key] = resource('networks', key);
  for (const key of Object.keys(raw.volumes ?? {})) volumes[key] = resource('volumes', key);

  const services: ComposeService[] = [];
  for (const [serviceName, service] of Object.entries(raw.services)) {
    const at = (field: string): string => `services.${serviceName}.${field}`;
    const report = (field: string, message: string): void => void problems.push(`${at(field)}: ${message}`);
    const normalised = normaliseService(name, dir, serviceName, service, options.env ?? process.env, report);
    for (const net of normalised.networks) {
      if (net.key === 'default' && networks['default'] === undefined) networks['default'] = resource('networks', 'default');
      if (networks[net.key] === undefined) report('networks', `${net.key} is not declared under top-level networks`);
    }
    for (const mount of normalised.mounts) {
      if (mount.type === 'volume' && mount.source !== undefined && volumes[mount.source] === undefined) {
        report('volumes', `${mount.source} is not declared under top-level volumes`);
      }
    }
    services.push(normalised);
  }
  const names = new Set(services.map((s) => s.name));
  for (const service of services) {
    for (const dep of service.dependsOn) {
      if (!names.has(dep.service)) problems.push(`services.${service.name}.depends_on: ${dep.service} is not a service of this file`);
    }
  }
  if (problems.length > 0) throw invalid(file, problems);
  return { name, dir, services, networks, volumes, unsetVariables: interpolated.unset };
}

function normaliseService(
  project: string,
  dir: string,
  name: string,
  raw: RawComposeService,
  env: Readonly<Record<string, string | undefined>>,
  report: (field: string, message: string) => void,
): ComposeService {
  const build = raw.build === undefined ? undefined : typeof raw.build === 'string' ? { context: raw.build } : raw.build;
  if (raw.image === undefined && build === undefined) report('image', 'a service needs image or build');
  const dependsOn = Array.isArray(raw.depends_on)
    ? raw.depends_on.map((service) => ({ service, condition: 'service_started' as DependencyCondition, required: true }))
    : Object.entries(raw.depends_on ?? {}).map(([service, dep]) => ({ service, condition: dep.condition, required: dep.required ?? true }));
  // Compose refuses the two together; without either a service joins the default network.
  if (raw.network_mode !== undefined && raw.networks !== undefined) report('network_mode', 'cannot be combined with networks');
  const networkEntries =
    raw.network_mode !== undefined
      ? []
      : raw.networks === undefined
        ? [['default', null] as const]
        : Array.isArray(raw.networks)
          ? raw.networks.map((key) => [key, null] as const)
          : Object.entries(raw.networks);
  const restart = raw.restart === undefined ? undefined : parseRestart(raw.restart);
  const gracePeriod = raw.stop_grace_period === undefined ? undefined : parseComposeDuration(raw.stop_grace_period);
  const healthcheck = raw.healthcheck;
  const words = (field: string, value: string | string[] | null | undefined): string[] | undefined => {
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) return value;
    const split = splitCommand(value);
    if (typeof split === 'string') report(field, split);
    return typeof split === 'string' ? [] : split;
  };
  const test = healthcheck?.test === undefined ? undefined : typeof healthcheck.test === 'string' ? ['CMD-SHELL', healthcheck.test] : healthcheck.test;
  if (test !== undefined && !['CMD', 'CMD-SHELL', 'NONE'].includes(test[0] ?? '')) report('healthcheck.test', 'must start with CMD, CMD-SHELL or NONE');
  const memLimit = raw.mem_limit === undefined ? undefined : parseBytes(raw.mem_limit);
  if (raw.mem_limit !== undefined && memLimit === undefined) report('mem_limit', 'not a size (e.g. 512m, 1g)');
  const nanoCpus = raw.cpus === undefined ? undefined : Math.round(Number(raw.cpus) * 1e9);

  return {
    name,
    image: raw.image ?? `${project}-${name}`,
    ...(build === undefined
      ? {}
      : {
          build: {
            context: resolve(dir, build.context ?? '.'),
            dockerfile: ('dockerfile' in build ? build.dockerfile : undefined) ?? 'Dockerfile',
            args: 'args' in build ? fromEnvironment(toNullableMap(build.args), env) : {},
            labels: 'labels' in build ? toMap(build.labels) : {},
            ...('target' in build && build.target !== undefined ? { target: build.target } : {}),
          },
        }),
    ...(raw.pull_policy === undefined ? {} : { pullPolicy: raw.pull_policy === 'if_not_present' ? 'missing' : raw.pull_policy }),
    containerName: raw.container_name ?? `${project}-${name}-1`,
    ...(raw.hostname === undefined ? {} : { hostname: raw.hostname }),
    ...optional('command', words('command', raw.command)),
    ...optional('entrypoint', words('entrypoint', raw.entrypoint)),
    environment: fromEnvironment(toNullableMap(raw.environment), env),
    envFiles: (raw.env_file === undefined ? [] : typeof raw.env_file === 'string' ? [raw.env_file] : raw.env_file).map((entry) =>
      typeof entry === 'string' ? { path: resolve(dir, entry), required: true } : { path: resolve(dir, entry.path), required: entry.required },
    ),
    ports: (raw.ports ?? []).flatMap((entry, i) => {
      const port = parsePort(entry);
      if (typeof port === 'string') report(`ports.${i}`, port);
      return typeof port === 'string' ? [] : [port];
    }),
    expose: raw.expose ?? [],
    mounts: [
      ...(raw.volumes ?? []).flatMap((entry, i) => {
        const mount = parseMount(entry, dir);
        if (typeof mount === 'string') report(`volumes.${i}`, mount);
        return typeof mount === 'string' ? [] : [mount];
      }),
      ...(raw.tmpfs === undefined ? [] : typeof raw.tmpfs === 'string' ? [raw.tmpfs] : raw.tmpfs).map((target): Mount => ({ type: 'tmpfs', target })),
    ],
    networks: networkEntries.map(([key, options]) => ({ key, aliases: [name, ...(options?.aliases ?? []).filter((alias) => alias !== name)] })),
    ...(raw.network_mode === undefined ? {} : { networkMode: raw.network_mode }),
    labels: toMap(raw.labels),
    // No `test`: the image's own HEALTHCHECK command with these timings (Docker: an empty Test inherits).
    ...(healthcheck === undefined ? {} : { healthcheck: healthcheck.disable ? { test: ['NONE'] } : { test: test ?? [], ...durations(healthcheck) } }),
    dependsOn,
    ...(restart === undefined ? {} : { restart }),
    ...(raw.user === undefined ? {} : { user: raw.user }),
    ...(raw.working_dir === undefined ? {} : { workingDir: raw.working_dir }),
    ...(raw.read_only === undefined ? {} : { readOnly: raw.read_only }),
    ...(raw.init === undefined ? {} : { init: raw.init }),
    capAdd: raw.cap_add ?? [],
    capDrop: raw.cap_drop ?? [],
    securityOpt: raw.security_opt ?? [],
    ...(gracePeriod === undefined ? {} : { stopGracePeriodNs: gracePeriod }),
    ...(raw.stop_signal === undefined ? {} : { stopSignal: raw.stop_signal }),
    extraHosts: Object.entries(toMap(raw.extra_hosts, ':')).map(([host, address]) => `${host}:${address}`),
    ...(raw.logging === undefined
      ? {}
      : { logging: { ...(raw.logging.driver === undefined ? {} : { driver: raw.logging.driver }), options: toMap(raw.logging.options) } }),
    ...(memLimit === undefined ? {} : { memLimitBytes: memLimit }),
    ...(nanoCpus === undefined ? {} : { nanoCpus }),
    ...(raw.pids_limit === undefined ? {} : { pidsLimit: raw.pids_limit }),
  };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function durations(h: {
  interval?: string | undefined;
  timeout?: string | undefined;
  start_period?: string | undefined;
  start_interval?: string | undefined;
  retries?: number | undefined;
}) {
  const ns = (text: string | undefined): number | undefined => (text === undefined ? undefined : parseComposeDuration(text));
  return {
    ...optional('intervalNs', ns(h.interval)),
    ...optional('timeoutNs', ns(h.timeout)),
    ...optional('startPeriodNs', ns(h.start_period)),
    ...optional('startIntervalNs', ns(h.start_interval)),
    ...optional('retries', h.retries),
  };
}

/** `KEY: value` map or `KEY=value` list into a map; entries without a value are null. */
function toNullableMap(value: Record<string, string | null> | string[] | undefined, separator = '='): Record<string, string | null> {
  if (value === undefined) return {};
  if (!Array.isArray(value)) return { ...value };
  const result: Record<string, string | null> = {};
  for (const entry of value) {
    const at = entry.indexOf(separator);
    if (at === -1) result[entry] = null;
    else result[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return result;
}

function toMap(value: Record<string, string | null> | string[] | undefined, separator = '='): Record<string, string> {
  return Object.fromEntries(Object.entries(toNullableMap(value, separator)).map(([k, v]) => [k, v ?? '']));
}

/** Compose semantics: a variable listed without a value takes the CLI's environment, or is left out. */
function fromEnvironment(map: Record<string, string | null>, env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(map)) {
    const resolved = value ?? env[key];
    if (resolved !== undefined) result[key] = resolved;
  }
  return result;
}

function parseRestart(text: string): NonNullable<ComposeService['restart']> {
  const [policy, count] = text.split(':') as [NonNullable<ComposeService['restart']>['name'], string | undefined];
  return count === undefined ? { name: policy } : { name: policy, maximumRetryCount: Number(count) };
}

/** A string `command:` is split like a shell would split words (compose uses shellwords), but never run by one. */
function splitCommand(text: string): string[] | string {
  const words: string[] = [];
  for (const entry of parseWords(text, (variable) => `$${variable}`)) {
    if (typeof entry === 'string') words.push(entry);
    else if ('op' in entry && entry.op === 'glob') words.push(entry.pattern);
    else if ('comment' in entry) break;
    else return `shell operator ${'op' in entry ? entry.op : '?'} in a string command; use the list form (["sh", "-c", "..."])`;
  }
  return words;
}

function invalid(file: string, problems: string[]): GatewayError {
  return new GatewayError('ERR_COMPOSE_INVALID', `${file} cannot be deployed by mcp-gateway up:\n  ${problems.join('\n  ')}`, {
    hint: 'render it again with `mcp-gateway render` (hand edits must stay within what up translates), or run `docker compose up -d` in that folder',
  });
}
