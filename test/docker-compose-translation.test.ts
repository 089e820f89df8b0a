import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseComposeDuration } from '../cli/deploy/docker/compose-duration.js';
import { interpolate } from '../cli/deploy/docker/compose-interpolation.js';
import type { ComposeProject } from '../cli/deploy/docker/compose-model.js';
import { parseMount, parsePort } from '../cli/deploy/docker/compose-short-syntax.js';
import { containerSpec } from '../cli/deploy/docker/container-spec.js';
import { parseEnvFile } from '../cli/deploy/docker/env-file.js';
import { LABEL_PROJECT, LABEL_SERVICE, LABEL_SPEC_HASH } from '../cli/deploy/docker/labels.js';
import { parseComposeProject } from '../cli/deploy/docker/load-compose-project.js';
import { serviceEnvironment } from '../cli/deploy/docker/service-env.js';
import { isGatewayError } from '../runtime/errors.js';
import { renderSampleFiles, sampleConfig, type DeployShape } from './helpers/deploy-fixtures.js';

const SHAPES: DeployShape[] = [
  { routing: 'path', router: 'builtin' },
  { routing: 'path', router: 'traefik' },
  { routing: 'subdomain', router: 'builtin' },
  { routing: 'subdomain', router: 'traefik' },
];

async function renderedProject(shape: DeployShape): Promise<ComposeProject> {
  const files = await renderSampleFiles(sampleConfig(shape));
  return parseComposeProject(files.get('compose.yaml')!, '/srv/gw/deploy/compose.yaml', { env: {} });
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (err) {
    return isGatewayError(err) ? err.code : `not a GatewayError: ${String(err)}`;
  }
  return undefined;
}

describe('compose.yaml as render writes it', () => {
  it.each(SHAPES)('translates every service of the $routing/$router deployment, nothing left untranslated', async (shape) => {
    const project = await renderedProject(shape);
    expect(project.name).toBe('mcpgw-gw');
    const names = project.services.map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'redis',
        'auth',
        shape.router === 'traefik' ? 'traefik' : 'router',
        'bridge-demo',
        'bridge-docs',
        'bridge-memory',
        'bridge-time',
      ]),
    );
    for (const service of project.services) {
      const spec = containerSpec(project, service, new Map([['SECRET', 'x']]), 'sha256:image');
      expect(spec.create.name).toBe(`mcpgw-gw-${service.name}-1`);
      expect(spec.create.Labels).toMatchObject({ [LABEL_PROJECT]: 'mcpgw-gw', [LABEL_SERVICE]: service.name, [LABEL_SPEC_HASH]: spec.hash });
      // Reachable by its service name: a bridge on its own network, everything else on the project's default one.
      const network = service.name.startsWith('bridge-') ? `mcpgw-gw_${service.name}` : 'mcpgw-gw_default';
      expect(spec.create.HostConfig?.NetworkMode).toBe(network);
      expect(spec.create.NetworkingConfig?.EndpointsConfig?.[network]?.Aliases).toEqual([service.name]);
      const router = service.name === 'router' || service.name === 'traefik';
      expect(spec.extraNetworks.map((n) => n.network)).toEqual(
        router ? ['mcpgw-gw_bridge-demo', 'mcpgw-gw_bridge-docs', 'mcpgw-gw_bridge-memory', 'mcpgw-gw_bridge-time'] : [],
      );
      expect(spec.create.HostConfig?.RestartPolicy).toEqual({ Name: 'unless-stopped' });
      expect(spec.create.Healthcheck?.Test?.[0]).toMatch(/^CMD(-SHELL)?$/);
    }
  });

  it('publishes only the router, on deploy.bind:deploy.httpPort', async () => {
    const project = await renderedProject({ routing: 'path', router: 'builtin' });
    const published = project.services.filter((s) => s.ports.length > 0);
    expect(published.map((s) => s.name)).toEqual(['router']);
    const spec = containerSpec(project, published[0]!, new Map(), 'sha256:i');
    expect(spec.create.HostConfig?.PortBindings).toEqual({ '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '80' }] });
    expect(spec.create.ExposedPorts).toEqual({ '8080/tcp': {} });
  });

  it('gives redis its named volume and the runtimes their config and logs bind mounts, resolved against the deploy folder', async () => {
    const project = await renderedProject({ routing: 'path', router: 'builtin' });
    const redis = containerSpec(project, project.services.find((s) => s.name === 'redis')!, new Map(), 'sha256:i');
    expect(redis.create.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'mcpgw-gw_redis-data', Target: '/data', ReadOnly: false }]);
    // `$$` is compose's escape: the container's shell sees `$REDIS_PASSWORD`.
    expect(redis.create.Cmd?.join(' ')).toContain('"$REDIS_PASSWORD"');
    const auth = containerSpec(project, project.services.find((s) => s.name === 'auth')!, new Map(), 'sha256:i');
    expect(auth.create.HostConfig?.Binds).toEqual(['/srv/gw/deploy/config:/config:ro', '/srv/gw/logs:/logs']);
    expect(auth.create.User).toBe('1000:1000');
    expect(auth.create.Healthcheck).toMatchObject({ Interval: 10e9, Timeout: 5e9, StartPeriod: 30e9, Retries: 6 });
    expect(project.services.find((s) => s.name === 'auth')!.envFiles).toEqual([{ path: '/srv/gw/deploy/secrets/auth.env', required: true }]);
  });

  it('builds the runtime images from build/ with the Dockerfile and base image args render chose', async () => {
    const project = await renderedProject({ routing: 'path', router: 'builtin' });
    const auth = project.services.find((s) => s.name === 'auth')!;
    expect(auth.image).toBe('mcp-gateway-runtime-node:0.0.0-test');
    expect(auth.build).toMatchObject({ context: '/srv/gw/deploy/build', dockerfile: 'runtime-node.Dockerfile', args: { BASE_IMAGE: 'node:20-bookworm-slim' } });
  });

  it('confines every bridge: read-only root with a tmpfs /tmp, no capabilities, no-new-privileges, the default limits', async () => {
    const project = await renderedProject({ routing: 'path', router: 'builtin' });
    for (const service of project.services.filter((s) => s.name.startsWith('bridge-'))) {
      const server = service.name.slice('bridge-'.length);
      const dataDir = `/srv/gw/.mcp-gateway/servers/${server}`;
      const { create } = containerSpec(project, service, new Map(Object.entries(service.environment)), 'sha256:i');
      expect(create.HostConfig).toMatchObject({
        ReadonlyRootfs: true,
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges:true'],
        Memory: 1024 ** 3,
        NanoCpus: 1e9,
        PidsLimit: 512,
        Tmpfs: { '/tmp': 'size=67108864' },
        Init: true,
      });
      // Its data volume at the host's path of its data directory, its own config read-only, nothing else (no logs/, no project config).
      expect(create.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: `mcpgw-gw_data-${server}`, Target: dataDir, ReadOnly: false }]);
      expect(create.HostConfig?.Binds).toEqual([`/srv/gw/deploy/config/bridges/${server}:/config:ro`]);
      expect(create.WorkingDir).toBe(dataDir);
      expect(create.Env).toEqual(expect.arrayContaining([`HOME=${dataDir}`, `UV_CACHE_DIR=${dataDir}/.cache/uv`]));
      expect(create.Env?.some((entry) => entry.startsWith('MCPGW_LOG_DIR='))).toBe(false);
      expect(project.volumes[`data-${server}`]).toMatchObject({
        name: `mcpgw-gw_data-${server}`,
        driver: 'local',
        driverOpts: { type: 'none', o: 'bind', device: dataDir },
      });
      expect(project.networks[service.name]).toMatchObject({ name: `mcpgw-gw_${service.name}`, internal: false });
    }
  });

  it('applies servers.NAME.limits, mounts and network: none', async () => {
    const config = sampleConfig(
      { routing: 'path', router: 'builtin' },
      {
        sealed: {
          command: 'node',
          args: ['/opt/tools/server.mjs'],
          network: 'none',
          limits: { memory: '256m', cpus: 0.5, pids: 64 },
          mounts: [{ path: '/opt/tools', readOnly: true }, { path: '/srv/shared' }],
        },
        open: { command: 'npx', args: ['-y', 'some-server'], limits: { memory: '1536MiB' } },
      },
    );
    const files = await renderSampleFiles(config);
    const project = parseComposeProject(files.get('compose.yaml')!, '/srv/gw/deploy/compose.yaml', { env: {} });
    const spec = (name: string) => {
      const service = project.services.find((s) => s.name === name)!;
      return containerSpec(project, service, new Map(Object.entries(service.environment)), 'sha256:i');
    };
    const sealed = spec('bridge-sealed').create;
    expect(sealed.HostConfig).toMatchObject({ Memory: 256 * 1024 ** 2, NanoCpus: 5e8, PidsLimit: 64, ReadonlyRootfs: true, CapDrop: ['ALL'] });
    expect(sealed.HostConfig?.Binds).toEqual(['/srv/gw/deploy/config/bridges/sealed:/config:ro', '/opt/tools:/opt/tools:ro', '/srv/shared:/srv/shared']);
    // No network at all: Docker's `none`, no endpoint to join; the socket volume is its only way in.
    expect(sealed.HostConfig?.NetworkMode).toBe('none');
    expect(sealed.NetworkingConfig).toBeUndefined();
    expect(spec('bridge-sealed').extraNetworks).toEqual([]);
    expect(sealed.Env).toContain('MCPGW_LISTEN=unix:/run/mcpgw/sealed.sock');
    expect(sealed.HostConfig?.Mounts).toContainEqual({ Type: 'volume', Source: 'mcpgw-gw_socket-sealed', Target: '/run/mcpgw', ReadOnly: false });
    expect(sealed.Healthcheck?.Test).toEqual([
      'CMD',
      '/usr/local/bin/node',
      '/app/bin/mcp-gateway.js',
      'runtime',
      'healthcheck',
      '--unix-socket',
      '/run/mcpgw/sealed.sock',
      'http://localhost/health',
    ]);
    // Its relay: on an internal network with the router, answering as bridge-sealed, the socket volume read-only, no secret, hardened.
    const relay = spec('relay-sealed').create;
    expect(relay.HostConfig).toMatchObject({
      NetworkMode: 'mcpgw-gw_relay-sealed',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges:true'],
      Memory: 256 * 1024 ** 2,
      PidsLimit: 64,
    });
    expect(relay.NetworkingConfig?.EndpointsConfig?.['mcpgw-gw_relay-sealed']?.Aliases).toEqual(['relay-sealed', 'bridge-sealed']);
    expect(relay.HostConfig?.Mounts).toEqual([{ Type: 'volume', Source: 'mcpgw-gw_socket-sealed', Target: '/run/mcpgw', ReadOnly: true }]);
    expect(relay.HostConfig?.Binds).toBeUndefined();
    expect(relay.Env).toEqual(['MCPGW_LISTEN=0.0.0.0:8000', 'MCPGW_RELAY_SOCKET=/run/mcpgw/sealed.sock']);
    expect(project.services.find((s) => s.name === 'relay-sealed')!.envFiles).toEqual([]);
    expect(project.networks['relay-sealed']).toMatchObject({ internal: true });
    // In memory, owned by the containers' user, so the bridge (not root) creates its socket there.
    expect(project.volumes['socket-sealed']).toMatchObject({
      driver: 'local',
      driverOpts: { type: 'tmpfs', device: 'tmpfs', o: 'uid=1000,gid=1000,mode=0700,size=1m' },
    });
    expect(spec('router').extraNetworks.map((n) => n.network)).toEqual(['mcpgw-gw_bridge-open', 'mcpgw-gw_relay-sealed']);
    const open = spec('bridge-open').create;
    expect(open.HostConfig).toMatchObject({ Memory: 1536 * 1024 ** 2, NanoCpus: 1e9, PidsLimit: 512 });
    expect(project.networks['bridge-open']).toMatchObject({ internal: false });
    // Each bridge's config holds its own server only.
    expect(Object.keys((parse(files.get('config/bridges/sealed/mcp-gateway.yaml')!) as { servers: object }).servers)).toEqual(['sealed']);
  });

  it('refuses network_mode other than none, and network_mode together with networks, by dotted path', () => {
    const invalid = (service: string): string | undefined => {
      try {
        parseComposeProject(`name: p\nservices:\n  a:\n    image: img\n${service}networks:\n  n: {}\n`, '/d/compose.yaml', { env: {} });
      } catch (err) {
        return isGatewayError(err) ? err.message : String(err);
      }
      return undefined;
    };
    expect(invalid('    network_mode: host\n')).toContain('services.a.network_mode');
    expect(invalid('    network_mode: none\n    networks: [n]\n')).toContain('services.a.network_mode: cannot be combined with networks');
    const project = parseComposeProject('name: p\nservices:\n  a:\n    image: img\n    network_mode: none\n', '/d/compose.yaml', { env: {} });
    expect(project.networks).toEqual({});
    expect(containerSpec(project, project.services[0]!, new Map(), 'sha256:i').create.HostConfig?.NetworkMode).toBe('none');
  });

  it('starts auth after redis is healthy and the router after auth', async () => {
    const project = await renderedProject({ routing: 'path', router: 'builtin' });
    const deps = Object.fromEntries(project.services.map((s) => [s.name, s.dependsOn.map((d) => `${d.service}:${d.condition}`)]));
    expect(deps['auth']).toEqual(['redis:service_healthy']);
    expect(deps['router']).toEqual(['auth:service_healthy']);
  });
});

describe('the spec hash', () => {
  const compose = `name: p\nservices:\n  a:\n    image: img\n    environment: { B: "2", A: "1" }\n    labels: { y: "1", x: "2" }\n`;
  const reordered = `name: p\nservices:\n  a:\n    labels: { x: "2", y: "1" }\n    environment: { A: "1", B: "2" }\n    image: img\n`;
  /** The service's environment as serviceEnvironment builds it: env-file entries, then `environment:`. */
  const hashOf = (text: string, fromFiles: Array<[string, string]> = [], image = 'sha256:1'): string => {
    const project = parseComposeProject(text, '/d/compose.yaml', { env: {} });
    const service = project.services[0]!;
    return containerSpec(project, service, new Map([...fromFiles, ...Object.entries(service.environment)]), image).hash;
  };

  it('does not depend on the order of keys, labels or variables', () => {
    expect(hashOf(reordered)).toBe(hashOf(compose));
  });

  it('changes with a secret from an env file, the image ID, or any field', () => {
    const base = hashOf(compose);
    expect(hashOf(compose, [['MCPGW_STATE_KEY', 'rotated']])).not.toBe(base);
    expect(hashOf(compose, [], 'sha256:2')).not.toBe(base);
    expect(hashOf(compose.replace('image: img', 'image: img\n    user: "1000"'))).not.toBe(base);
    expect(hashOf(compose.replace('A: "1"', 'A: "3"'))).not.toBe(base);
  });
});

describe('compose fields up does not translate', () => {
  it('rejects an unknown service field by its dotted path instead of dropping it', () => {
    const text = 'name: p\nservices:\n  auth:\n    image: i\n    privileged: true\n';
    expect(codeOf(() => parseComposeProject(text, '/d/compose.yaml'))).toBe('ERR_COMPOSE_INVALID');
    expect(() => parseComposeProject(text, '/d/compose.yaml')).toThrow(/services\.auth.*privileged/);
  });

  it('accepts x- extension keys where the spec allows them', () => {
    const text = 'name: p\nx-common: &c { image: i }\nservices:\n  a:\n    <<: *c\n    x-note: hello\n';
    expect(parseComposeProject(text, '/d/compose.yaml').services[0]!.image).toBe('i');
  });

  it('names an undeclared volume, an unknown dependency and a depends_on cycle', () => {
    expect(() => parseComposeProject('name: p\nservices:\n  a:\n    image: i\n    volumes: [data:/data]\n', '/d/c.yaml')).toThrow(
      /services\.a\.volumes: data is not declared/,
    );
    expect(() => parseComposeProject('name: p\nservices:\n  a:\n    image: i\n    depends_on: [b]\n', '/d/c.yaml')).toThrow(
      /services\.a\.depends_on: b is not a service/,
    );
  });
});

describe('env files', () => {
  it('reads them the way docker compose does', () => {
    const text = [
      '# comment',
      '',
      'SINGLE=\'{"keys":[1]} # not a comment\'',
      'DOUBLE="line\\nbreak \\"quoted\\""',
      'BARE=value # comment',
      'HASH=value#kept',
      'export EXPORTED=yes',
      'MULTI="first',
      'second"',
      'FROM_ENV',
      'EMPTY=',
    ].join('\n');
    const parsed = parseEnvFile(text, (key) => (key === 'FROM_ENV' ? 'host' : undefined));
    expect(parsed).toEqual({
      ok: true,
      env: [
        ['SINGLE', '{"keys":[1]} # not a comment'],
        ['DOUBLE', 'line\nbreak "quoted"'],
        ['BARE', 'value'],
        ['HASH', 'value#kept'],
        ['EXPORTED', 'yes'],
        ['MULTI', 'first\nsecond'],
        ['FROM_ENV', 'host'],
        ['EMPTY', ''],
      ],
    });
  });

  it('reports the line of a broken entry, never its value', () => {
    expect(parseEnvFile("A=1\nB='secret-value")).toEqual({ ok: false, line: 2, reason: 'the single quote is never closed' });
  });

  describe('for a service', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'mcpgw-envfile-'));
      await writeFile(join(dir, 'auth.env'), "MCPGW_STATE_KEY='from-file'\nOVERRIDDEN='file'\n");
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('passes the file to the container with environment: winning', async () => {
      const project = parseComposeProject(
        `name: p\nservices:\n  auth:\n    image: i\n    env_file: [./auth.env]\n    environment: { OVERRIDDEN: compose }\n`,
        join(dir, 'compose.yaml'),
      );
      const env = await serviceEnvironment(project.services[0]!);
      expect([...env]).toEqual([
        ['MCPGW_STATE_KEY', 'from-file'],
        ['OVERRIDDEN', 'compose'],
      ]);
    });

    it('names a missing secret file and the service (ERR_SECRET_MISSING)', async () => {
      const project = parseComposeProject(`name: p\nservices:\n  bridge-x:\n    image: i\n    env_file: [./secrets/bridge-x.env]\n`, join(dir, 'compose.yaml'));
      const err = await serviceEnvironment(project.services[0]!).catch((e: unknown) => e);
      expect(isGatewayError(err) && err.code).toBe('ERR_SECRET_MISSING');
      expect(String((err as Error).message)).toContain(join(dir, 'secrets/bridge-x.env'));
      expect(String((err as Error).message)).toContain('bridge-x');
    });

    it('skips a missing env file marked required: false', async () => {
      const project = parseComposeProject(
        `name: p\nservices:\n  a:\n    image: i\n    env_file: [{ path: ./nope.env, required: false }]\n`,
        join(dir, 'compose.yaml'),
      );
      expect([...(await serviceEnvironment(project.services[0]!))]).toEqual([]);
    });
  });
});

describe('compose syntax details', () => {
  it('interpolates ${VAR}, defaults and $$, and reports unset variables', () => {
    const result = interpolate({ a: '${A}-${B:-dflt}-$$HOME-${C}', b: ['$A'] }, { A: 'x' });
    expect(result.value).toEqual({ a: 'x-dflt-$HOME-', b: ['x'] });
    expect(result.unset).toEqual(['C']);
    expect(() => interpolate({ a: '${NEED:?set it}' }, {})).toThrow(/NEED is missing a value: set it/);
  });

  it('expands the short port and volume syntaxes', () => {
    expect(parsePort('127.0.0.1:8080:80')).toEqual({ target: 80, published: 8080, hostIp: '127.0.0.1', protocol: 'tcp' });
    expect(parsePort('[::1]:53:53/udp')).toEqual({ target: 53, published: 53, hostIp: '::1', protocol: 'udp' });
    expect(parsePort(8000)).toEqual({ target: 8000, protocol: 'tcp' });
    expect(parsePort('8000-8010:8000-8010')).toMatch(/ranges are not supported/);
    expect(parseMount('./logs:/logs', '/srv/d')).toEqual({ type: 'bind', source: '/srv/d/logs', target: '/logs', readOnly: false, createHostPath: true });
    expect(parseMount('data:/data:ro', '/srv/d')).toEqual({ type: 'volume', source: 'data', target: '/data', readOnly: true, noCopy: false });
  });

  it('reads Go durations as nanoseconds', () => {
    expect(parseComposeDuration('1m30s')).toBe(90e9);
    expect(parseComposeDuration('500ms')).toBe(500e6);
    expect(parseComposeDuration('10')).toBeUndefined();
  });
});
