import { z } from 'zod';
import { parseComposeDuration } from '../docker/compose-duration.js';

/**
 * The part of the compose file format (v3, as `docker stack deploy` reads it) that
 * `up --target swarm` translates to service specs: what render writes into stack.yaml, plus
 * placement constraints an operator adds. Objects are strict, as in compose-schema.ts: a field
 * `up` would not translate is an error naming it, never dropped, so `up --target swarm` and
 * `docker stack deploy` cannot read one file two ways. `x-*` keys are removed before validation;
 * `x-build` is read on its own.
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]).transform(String);
const labels = z.record(z.string(), scalar);
const duration = z.string().refine((text) => parseComposeDuration(text) !== undefined, { message: 'not a duration (e.g. 10s, 1m30s, 500ms)' });
const int = z.number().int();

const reference = z.strictObject({
  source: z.string(),
  target: z.string().optional(),
  uid: z.string().optional(),
  gid: z.string().optional(),
  mode: int.min(0).max(0o777).optional(),
});

const mount = z.strictObject({
  type: z.enum(['volume', 'bind', 'tmpfs']),
  source: z.string().optional(),
  target: z.string(),
  read_only: z.boolean().optional(),
  volume: z.strictObject({ nocopy: z.boolean().optional() }).optional(),
  tmpfs: z.strictObject({ size: int.min(0).optional() }).optional(),
});

const port = z.strictObject({
  target: int.min(1).max(65535),
  published: int.min(1).max(65535).optional(),
  protocol: z.enum(['tcp', 'udp']).default('tcp'),
  mode: z.enum(['host', 'ingress']).default('ingress'),
});

const healthcheck = z.strictObject({
  test: z.array(z.string()).min(1),
  interval: duration.optional(),
  timeout: duration.optional(),
  start_period: duration.optional(),
  retries: int.min(0).optional(),
});

const updateConfig = z.strictObject({
  parallelism: int.min(0).optional(),
  delay: duration.optional(),
  order: z.enum(['start-first', 'stop-first']).optional(),
  failure_action: z.enum(['pause', 'continue', 'rollback']).optional(),
  monitor: duration.optional(),
  max_failure_ratio: z.number().min(0).max(1).optional(),
});

const deploy = z.strictObject({
  mode: z.literal('replicated').optional(),
  endpoint_mode: z.enum(['vip', 'dnsrr']).optional(),
  replicas: int.min(0).optional(),
  labels: labels.optional(),
  update_config: updateConfig.optional(),
  rollback_config: updateConfig.optional(),
  restart_policy: z
    .strictObject({
      condition: z.enum(['none', 'on-failure', 'any']).optional(),
      delay: duration.optional(),
      max_attempts: int.min(0).optional(),
      window: duration.optional(),
    })
    .optional(),
  resources: z
    .strictObject({
      limits: z
        .strictObject({
          cpus: z
            .string()
            .regex(/^\d+(?:\.\d+)?$/, 'a number of CPUs, e.g. "0.5"')
            .optional(),
          memory: z.string().optional(),
          pids: int.min(0).optional(),
        })
        .optional(),
    })
    .optional(),
  placement: z.strictObject({ constraints: z.array(z.string()).optional(), max_replicas_per_node: int.min(0).optional() }).optional(),
});

export const stackServiceSchema = z.strictObject({
  image: z.string().min(1),
  command: z.array(z.string()).optional(),
  entrypoint: z.array(z.string()).optional(),
  user: z.string().optional(),
  working_dir: z.string().optional(),
  environment: z.record(z.string(), scalar).optional(),
  labels: labels.optional(),
  init: z.boolean().optional(),
  read_only: z.boolean().optional(),
  cap_drop: z.array(z.string()).optional(),
  cap_add: z.array(z.string()).optional(),
  volumes: z.array(mount).optional(),
  networks: z.array(z.string()).optional(),
  ports: z.array(port).optional(),
  healthcheck: healthcheck.optional(),
  secrets: z.array(reference).optional(),
  configs: z.array(reference).optional(),
  stop_grace_period: duration.optional(),
  deploy: deploy.optional(),
});

const fileObject = z.strictObject({ file: z.string().min(1), labels: labels.optional() });

export const stackFileSchema = z.strictObject({
  version: z.string().optional(),
  services: z.record(z.string().regex(/^[a-zA-Z0-9._-]+$/), stackServiceSchema),
  networks: z
    .record(
      z.string(),
      z
        .strictObject({
          driver: z.literal('overlay').optional(),
          labels: labels.optional(),
          attachable: z.boolean().optional(),
          internal: z.boolean().optional(),
        })
        .nullable(),
    )
    .optional(),
  volumes: z
    .record(
      z.string(),
      z.strictObject({ driver: z.string().optional(), driver_opts: z.record(z.string(), scalar).optional(), labels: labels.optional() }).nullable(),
    )
    .optional(),
  secrets: z.record(z.string(), fileObject).optional(),
  configs: z.record(z.string(), fileObject).optional(),
});

/** `x-build`: image tag -> how it is built from build/ (`docker stack deploy` builds nothing). */
export const stackBuildsSchema = z.record(
  z.string(),
  z.strictObject({ context: z.string(), dockerfile: z.string(), args: z.record(z.string(), scalar).optional(), target: z.string().optional() }),
);

export type RawStackFile = z.infer<typeof stackFileSchema>;
export type RawStackService = z.infer<typeof stackServiceSchema>;
