import { z } from 'zod';
import { parseComposeDuration } from './compose-duration.js';

/**
 * The part of the compose specification (github.com/compose-spec/compose-spec, spec.md) that
 * `mcp-gateway up` translates to Docker API calls: what `render` writes, plus the hardening
 * fields a service definition commonly carries. Objects are strict on purpose: a field `up`
 * does not translate is an error naming it, never silently dropped, so `up` and
 * `docker compose up` in the deploy folder cannot drift apart. `x-*` extension keys are allowed
 * where the spec puts them (removed before validation).
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
/** `KEY: value` map or `KEY=value` list; a list entry or map value without a value means "from the environment". */
const mapOrList = z.union([z.record(z.string(), scalar.nullable()), z.array(z.string())]);
const stringOrList = z.union([z.string(), z.array(z.string())]);
const duration = z.string().refine((text) => parseComposeDuration(text) !== undefined, { message: 'not a duration (e.g. 10s, 1m30s, 500ms)' });

const build = z.union([
  z.string(),
  z.strictObject({
    context: z.string().default('.'),
    dockerfile: z.string().optional(),
    args: mapOrList.optional(),
    labels: mapOrList.optional(),
    target: z.string().optional(),
  }),
]);

const port = z.union([
  z.number().int(),
  z.string(),
  z.strictObject({
    target: z.number().int().min(1).max(65535),
    published: z.union([z.number().int(), z.string()]).optional(),
    host_ip: z.string().optional(),
    protocol: z.enum(['tcp', 'udp']).optional(),
    mode: z.literal('host').optional(),
    name: z.string().optional(),
  }),
]);

const volumeMount = z.union([
  z.string(),
  z.strictObject({
    type: z.enum(['volume', 'bind', 'tmpfs']),
    source: z.string().optional(),
    target: z.string(),
    read_only: z.boolean().optional(),
    volume: z.strictObject({ nocopy: z.boolean().optional() }).optional(),
    bind: z.strictObject({ create_host_path: z.boolean().optional() }).optional(),
    tmpfs: z.strictObject({ size: z.union([z.number(), z.string()]).optional(), mode: z.number().optional() }).optional(),
  }),
]);

const healthcheck = z.strictObject({
  test: stringOrList.optional(),
  interval: duration.optional(),
  timeout: duration.optional(),
  start_period: duration.optional(),
  start_interval: duration.optional(),
  retries: z.number().int().min(0).optional(),
  disable: z.boolean().optional(),
});

const dependsOn = z.union([
  z.array(z.string()),
  z.record(
    z.string(),
    z.strictObject({
      condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']).default('service_started'),
      restart: z.boolean().optional(),
      required: z.boolean().optional(),
    }),
  ),
]);

const serviceNetworks = z.union([z.array(z.string()), z.record(z.string(), z.strictObject({ aliases: z.array(z.string()).optional() }).nullable())]);

export const composeServiceSchema = z.strictObject({
  image: z.string().optional(),
  build: build.optional(),
  pull_policy: z.enum(['always', 'never', 'missing', 'build', 'if_not_present']).optional(),
  container_name: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, 'must be a valid container name')
    .optional(),
  hostname: z.string().optional(),
  command: stringOrList.nullable().optional(),
  entrypoint: stringOrList.nullable().optional(),
  environment: mapOrList.optional(),
  env_file: z.union([z.string(), z.array(z.union([z.string(), z.strictObject({ path: z.string(), required: z.boolean().default(true) })]))]).optional(),
  ports: z.array(port).optional(),
  expose: z.array(scalar).optional(),
  volumes: z.array(volumeMount).optional(),
  tmpfs: stringOrList.optional(),
  networks: serviceNetworks.optional(),
  /** Only `none` (no network at all, a loopback interface): what render writes for `servers.NAME.network: none`. */
  network_mode: z.literal('none', { message: 'up translates only network_mode: none (use networks: for the rest)' }).optional(),
  labels: mapOrList.optional(),
  healthcheck: healthcheck.optional(),
  depends_on: dependsOn.optional(),
  restart: z
    .string()
    .regex(/^(?:no|always|unless-stopped|on-failure(?::\d+)?)$/, 'must be no, always, unless-stopped or on-failure[:N]')
    .optional(),
  user: scalar.optional(),
  working_dir: z.string().optional(),
  read_only: z.boolean().optional(),
  init: z.boolean().optional(),
  cap_add: z.array(z.string()).optional(),
  cap_drop: z.array(z.string()).optional(),
  security_opt: z.array(z.string()).optional(),
  stop_grace_period: duration.optional(),
  stop_signal: z.string().optional(),
  extra_hosts: mapOrList.optional(),
  logging: z.strictObject({ driver: z.string().optional(), options: z.record(z.string(), scalar.nullable()).optional() }).optional(),
  mem_limit: z.union([z.string(), z.number()]).optional(),
  /** CPUs as a fraction of cores (`0.5`); the spec allows a number or a numeric string. */
  cpus: z.union([z.number().positive(), z.string().regex(/^\d+(?:\.\d+)?$/, 'must be a number of CPUs, e.g. 0.5')]).optional(),
  pids_limit: z.number().int().optional(),
});

const resourceFields = z.strictObject({
  name: z.string().optional(),
  driver: z.string().optional(),
  driver_opts: z.record(z.string(), scalar).optional(),
  labels: mapOrList.optional(),
  external: z.boolean().optional(),
});
const namedResource = resourceFields.nullable();
/** A network may also be `internal`: no route out of the host (spec.md "internal"). */
const namedNetwork = resourceFields.extend({ internal: z.boolean().optional() }).nullable();

export const composeFileSchema = z.strictObject({
  /** Obsolete in the compose spec; accepted and ignored as `docker compose` does. */
  version: z.string().optional(),
  name: z
    .string()
    .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be lowercase letters, digits, - and _')
    .optional(),
  services: z.record(z.string().regex(/^[a-zA-Z0-9._-]+$/, 'invalid service name'), composeServiceSchema),
  networks: z.record(z.string(), namedNetwork).optional(),
  volumes: z.record(z.string(), namedResource).optional(),
});

export type RawComposeFile = z.output<typeof composeFileSchema>;
export type RawComposeService = z.output<typeof composeServiceSchema>;

/**
 * Removes `x-*` extension keys from the top level and from each service, network and volume
 * (where the spec allows them); environment names and labels are left as written.
 */
export function withoutExtensions(document: unknown): unknown {
  const strip = (node: unknown): unknown =>
    node !== null && typeof node === 'object' && !Array.isArray(node)
      ? Object.fromEntries(Object.entries(node).filter(([key]) => !key.startsWith('x-')))
      : node;
  const root = strip(document);
  if (root === null || typeof root !== 'object' || Array.isArray(root)) return root;
  const result: Record<string, unknown> = { ...(root as Record<string, unknown>) };
  for (const section of ['services', 'networks', 'volumes']) {
    const entries = strip(result[section]);
    if (entries !== null && typeof entries === 'object' && !Array.isArray(entries)) {
      result[section] = Object.fromEntries(Object.entries(entries).map(([name, value]) => [name, strip(value)]));
    }
  }
  return result;
}
