import { execFile, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGatewayError } from '../runtime/errors.js';
import { parseConfig } from '../runtime/config/load-config.js';
import { renderDeployment } from '../cli/deploy/render-deployment.js';
import { COMPOSE_HEADER_MARK } from '../cli/deploy/render-compose.js';
import { STACK_FILE } from '../cli/deploy/swarm/render-stack.js';
import { parseStack } from '../cli/deploy/swarm/load-stack.js';
import { serviceSpec } from '../cli/deploy/swarm/service-spec.js';
import { renderSampleFiles, makeSampleProject, sampleConfig, sampleConfigInput, type DeployShape } from './helpers/deploy-fixtures.js';
import { PACKAGE_ROOT } from './helpers/cli-run.js';
import { composeSpecValidator, problems, traefikValidators } from './helpers/deploy-schemas.js';
import { renderSampleStack, swarmSampleConfig } from './helpers/swarm-fixtures.js';
import { expectGolden as expectGoldenIn } from './helpers/golden-files.js';

/*
 * What `render --target swarm` writes for the sample project (test/helpers/deploy-fixtures.ts,
 * with replicas: helpers/swarm-fixtures.ts). Golden files pin stack.yaml; after an intended
 * change rewrite them and review the diff like code:
 *   UPDATE_GOLDEN=1 npx vitest run --project main test/swarm-render
 */
const GOLDEN_DIR = fileURLToPath(new URL('./golden/swarm/', import.meta.url));
const run = promisify(execFile);
const DOCKER_CLI = process.env['DOCKER_CLI'] ?? 'docker';
const hasDockerCli = spawnSync(DOCKER_CLI, ['--version'], { stdio: 'ignore' }).status === 0;

const expectGolden = (name: string, actual: string): Promise<void> => expectGoldenIn(GOLDEN_DIR, name, actual);

type Stack = {
  services: Record<string, Record<string, any>>;
  networks: Record<string, Record<string, unknown>>;
  secrets: Record<string, { file: string }>;
  configs: Record<string, { file: string }>;
  'x-build': Record<string, unknown>;
};

const SHAPES: DeployShape[] = [
  { routing: 'path', router: 'builtin' },
  { routing: 'subdomain', router: 'traefik' },
];

describe('stack.yaml of the sample project', () => {
  let compose: ValidateFunction;
  let traefik: { static: ValidateFunction; dynamic: ValidateFunction };
  beforeAll(async () => {
    compose = await composeSpecValidator();
    traefik = await traefikValidators();
  });

  it('is as pinned (path routing, built-in router)', async () => {
    const { files } = await renderSampleStack(swarmSampleConfig({ routing: 'path', router: 'builtin' }));
    await expectGolden('path-builtin/stack.yaml', files.get(STACK_FILE)!);
  });

  it('is as pinned behind Traefik (subdomain routing), with its dynamic configuration', async () => {
    const { files } = await renderSampleStack(swarmSampleConfig({ routing: 'subdomain', router: 'traefik' }));
    await expectGolden('subdomain-traefik/stack.yaml', files.get(STACK_FILE)!);
    await expectGolden('subdomain-traefik/dynamic.yml', files.get('traefik/dynamic.yml')!);
  });

  describe.each(SHAPES)('$routing routing, $router router', (shape) => {
    let files: Map<string, string>;
    let secretFiles: Map<string, string>;
    let stack: Stack;
    beforeAll(async () => {
      ({ files, secretFiles } = await renderSampleStack(swarmSampleConfig(shape)));
      stack = parse(files.get(STACK_FILE)!) as Stack;
    });

    it('starts with the mark render looks for before it replaces a folder', () => {
      expect(files.get(STACK_FILE)!.split('\n')[0]).toContain(COMPOSE_HEADER_MARK);
    });

    it('is a valid compose file (the compose specification)', () => {
      const ok = compose(stack);
      expect(problems(compose), 'compose-spec').toBe('');
      expect(ok).toBe(true);
    });

    it.skipIf(!hasDockerCli)('is a stack file the docker CLI reads (docker stack config, its own v3 schema)', async () => {
      const dir = join(await mkdirTemp(), 'deploy');
      for (const [path, text] of [...files, ...secretFiles]) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      const { stdout } = await run(DOCKER_CLI, ['stack', 'config', '-c', STACK_FILE], { cwd: dir });
      const read = parse(stdout) as Stack;
      expect(Object.keys(read.services).sort()).toEqual(Object.keys(stack.services).sort());
      await rm(dirname(dir), { recursive: true, force: true });
    });

    it('runs the built-in router always, behind Traefik when router: traefik, and one bridge service per server', () => {
      const expected = [
        'redis',
        'auth',
        'router',
        ...(shape.router === 'traefik' ? ['traefik'] : []),
        'bridge-demo',
        'bridge-docs',
        'bridge-memory',
        'bridge-time',
      ];
      expect(Object.keys(stack.services)).toEqual(expected);
    });

    it('resolves every service by DNS round-robin, with the replicas of the config and rolling start-first updates that roll back', () => {
      const replicas: Record<string, number> = { redis: 1, auth: 2, router: 2, traefik: 1, 'bridge-memory': 3 };
      for (const [name, service] of Object.entries(stack.services)) {
        expect({ name, mode: service['deploy'].endpoint_mode, replicas: service['deploy'].replicas }).toEqual({
          name,
          mode: 'dnsrr',
          replicas: replicas[name] ?? 1,
        });
        expect(service['deploy'].update_config).toMatchObject({ parallelism: 1, failure_action: 'rollback', delay: '5s' });
        expect(service['deploy'].restart_policy).toMatchObject({ condition: 'any' });
        expect(service['build']).toBeUndefined();
        expect(service['env_file']).toBeUndefined();
      }
      // Two of these cannot run side by side: one Redis volume, host-mode ports.
      const stopFirst = ['redis', ...(shape.router === 'traefik' ? ['traefik'] : ['router'])];
      for (const [name, service] of Object.entries(stack.services)) {
        expect({ name, order: service['deploy'].update_config.order }).toEqual({ name, order: stopFirst.includes(name) ? 'stop-first' : 'start-first' });
      }
    });

    it('publishes only the front (router or Traefik), in host mode, on no host address', () => {
      const published = Object.entries(stack.services).filter(([, service]) => service['ports'] !== undefined);
      if (shape.router === 'builtin') {
        expect(published.map(([name]) => name)).toEqual(['router']);
        expect(stack.services['router']!['ports']).toEqual([{ target: 8080, published: 80, protocol: 'tcp', mode: 'host' }]);
        expect(stack.services['router']!['deploy'].placement).toEqual({ max_replicas_per_node: 1 });
      } else {
        expect(published.map(([name]) => name)).toEqual(['traefik']);
        expect(stack.services['traefik']!['ports']).toEqual([
          { target: 80, published: 80, protocol: 'tcp', mode: 'host' },
          { target: 443, published: 443, protocol: 'tcp', mode: 'host' },
        ]);
        expect(stack.services['traefik']!['networks']).toEqual(['default']);
        expect(stack.services['traefik']!['volumes']).toEqual([{ type: 'volume', source: 'letsencrypt', target: '/letsencrypt' }]);
      }
    });

    it("gives the router the bridges' tasks, auth by its name, and every network; a bridge its own network only", () => {
      expect(stack.services['router']!['environment']).toMatchObject({
        MCPGW_BRIDGE_URL: 'http://tasks.bridge-{name}:8000',
        MCPGW_AUTH_URL: 'http://auth:8000',
        MCPGW_LISTEN: '0.0.0.0:8080',
        MCPGW_METRICS_LISTEN: '0.0.0.0:9464',
        MCPGW_CONFIG: '/config/mcp-gateway.yaml',
      });
      expect(stack.services['router']!['networks']).toEqual(['default', 'bridge-demo', 'bridge-docs', 'bridge-memory', 'bridge-time']);
      for (const name of ['redis', 'auth']) expect(stack.services[name]!['networks']).toEqual(['default']);
      for (const server of ['demo', 'docs', 'memory', 'time']) expect(stack.services[`bridge-${server}`]!['networks']).toEqual([`bridge-${server}`]);
      for (const network of Object.values(stack.networks)) expect(network).toMatchObject({ driver: 'overlay' });
    });

    it('gives each bridge the drain period, a stop grace of drain + shutdownGrace + 5s, its limits and its own config', () => {
      for (const server of ['demo', 'docs', 'memory', 'time']) {
        const bridge = stack.services[`bridge-${server}`]!;
        expect(bridge['environment']).toMatchObject({ MCPGW_LISTEN: '0.0.0.0:8000', MCPGW_DRAIN_MS: '20000' });
        expect(bridge['stop_grace_period']).toBe('35s');
        expect(bridge['deploy'].resources).toEqual({ limits: { cpus: '1', memory: '1G', pids: 512 } });
        expect(bridge['configs']).toEqual([
          { source: expect.stringMatching(new RegExp(`^bridge-${server}-config-[0-9a-f]{8}$`)), target: '/config/mcp-gateway.yaml', mode: 0o444 },
        ]);
        expect(bridge['labels']).toEqual({
          'io.mcp-gateway.project': 'mcpgw-gw',
          'io.mcp-gateway.service': `bridge-${server}`,
          'io.mcp-gateway.server': server,
        });
        expect(bridge['deploy'].labels).toEqual(bridge['labels']);
        // Hardening of the compose target, but for security_opt, which swarm services do not have.
        expect(bridge).toMatchObject({ read_only: true, cap_drop: ['ALL'], init: true, user: '1000:1000' });
        expect(bridge['volumes']).toContainEqual({ type: 'tmpfs', target: '/tmp', tmpfs: { size: 64 * 1024 ** 2 } });
      }
      expect(stack.services['bridge-docs']!['secrets']).toEqual([
        { source: expect.stringMatching(/^bridge-docs-headers-[0-9a-f]{8}$/), target: 'mcpgw_upstream_headers', uid: '1000', gid: '1000', mode: 0o400 },
      ]);
      expect(stack.services['bridge-demo']!['secrets']).toBeUndefined();
    });

    it('mounts every secret at /run/secrets/<variable>, one file each, and Redis reads its password from its file', () => {
      const targets = (service: string): string[] => (stack.services[service]!['secrets'] as Array<{ target: string }>).map((s) => s.target);
      expect(targets('auth')).toEqual(['mcpgw_signing_keys', 'mcpgw_state_key', 'mcpgw_redis_password', 'mcpgw_admin_token', 'mcpgw_github_client_secret']);
      expect(targets('router')).toEqual(['mcpgw_session_key']);
      expect(targets('redis')).toEqual(['redis_password']);
      expect(stack.services['redis']!['command'][2]).toMatch(/^read -r REDIS_PASSWORD < \/run\/secrets\/redis_password; exec /);
      expect(stack.services['redis']!['healthcheck'].test[1]).toMatch(/^read -r REDIS_PASSWORD < \/run\/secrets\/redis_password; redis-cli /);
      for (const [key, secret] of Object.entries(stack.secrets)) expect(secretFiles.has(secret.file.replace(/^\.\//, '')), key).toBe(true);
      expect(secretFiles.get('secrets/bridge-docs/mcpgw_upstream_headers')).toBe(JSON.stringify({ Authorization: "Bearer sk-docs-7f3a'91" }));
      expect(files.get(STACK_FILE)).not.toContain('sk-docs');
      for (const config of Object.values(stack.configs)) expect(files.has(config.file.replace(/^\.\//, ''))).toBe(true);
    });

    it('keeps the compose services of every runtime: command, healthcheck, user and hardening are the same', async () => {
      const composeFile = parse((await renderSampleFiles(sampleConfig({ routing: shape.routing, router: 'builtin' }))).get('compose.yaml')!) as Stack;
      for (const name of ['auth', 'router', 'bridge-demo', 'bridge-time']) {
        const [swarm, reference] = [stack.services[name]!, composeFile.services[name]!];
        for (const key of ['command', 'healthcheck', 'user', 'read_only', 'cap_drop', 'init', 'working_dir', 'image']) {
          expect({ name, key, value: swarm[key] }).toEqual({ name, key, value: reference[key] });
        }
      }
    });

    it('names the images to build (x-build) from build/, without which stack deploy would have nothing to run', () => {
      expect(Object.keys(stack['x-build']).sort()).toEqual(['mcp-gateway-runtime-node:0.0.0-test', 'mcp-gateway-runtime-python:0.0.0-test']);
    });

    if (shape.router === 'traefik') {
      it("Traefik's static and dynamic files are valid Traefik v3 configuration, without the Docker provider", () => {
        const staticConfig = parse(files.get('traefik/traefik.yml')!) as { providers: Record<string, unknown> };
        expect(traefik.static(staticConfig), problems(traefik.static)).toBe(true);
        expect(Object.keys(staticConfig.providers)).toEqual(['file']);
        const dynamic = parse(files.get('traefik/dynamic.yml')!) as { http: { routers: Record<string, { rule: string }> } };
        expect(traefik.dynamic(dynamic), problems(traefik.dynamic)).toBe(true);
        // Every public host: the issuer's and each server's subdomain, so Let's Encrypt has a certificate for each.
        expect(dynamic.http.routers['gateway']!.rule).toBe(
          'Host(`example.com`) || Host(`time.example.com`) || Host(`memory.example.com`) || Host(`demo.example.com`) || Host(`docs.example.com`)',
        );
      });
    }
  });

  it('is read back by up --target swarm: stack deploy names, the command as the Args, the key as the alias on each network', async () => {
    const { files } = await renderSampleStack(swarmSampleConfig({ routing: 'path', router: 'builtin' }));
    const stack = parseStack(files.get(STACK_FILE)!, '/srv/gw/deploy/stack.yaml', { project: 'mcpgw-gw', env: {} });
    expect(stack.services.map((s) => s.name)).toEqual(
      ['redis', 'auth', 'router', 'bridge-demo', 'bridge-docs', 'bridge-memory', 'bridge-time'].map((s) => `mcpgw-gw_${s}`),
    );
    expect(stack.builds['mcp-gateway-runtime-node:0.0.0-test']).toMatchObject({ context: '/srv/gw/deploy/build', dockerfile: 'runtime-node.Dockerfile' });
    const ids = {
      secrets: new Map(Object.keys(stack.secrets).map((key) => [key, `id-${key}`])),
      configs: new Map(Object.keys(stack.configs).map((key) => [key, `id-${key}`])),
    };
    const router = stack.services.find((s) => s.key === 'router')!;
    const { spec, hash } = serviceSpec(stack, router, ids);
    expect(spec).toMatchObject({
      Name: 'mcpgw-gw_router',
      Labels: { 'com.docker.stack.namespace': 'mcpgw-gw', 'io.mcp-gateway.spec-hash': hash, 'io.mcp-gateway.service': 'router' },
      Mode: { Replicated: { Replicas: 2 } },
      UpdateConfig: { Parallelism: 1, Order: 'stop-first', FailureAction: 'rollback', Delay: 5e9, Monitor: 15e9 },
      EndpointSpec: { Mode: 'dnsrr', Ports: [{ Protocol: 'tcp', TargetPort: 8080, PublishedPort: 80, PublishMode: 'host' }] },
      TaskTemplate: { Placement: { Constraints: [], MaxReplicas: 1 }, RestartPolicy: { Condition: 'any', Delay: 5e9 } },
    });
    const task = spec.TaskTemplate as { ContainerSpec: Record<string, any>; Networks: unknown[] };
    expect(task.ContainerSpec['Args']).toEqual(['/usr/local/bin/node', '/app/bin/mcp-gateway.js', 'runtime', 'router']);
    expect(task.ContainerSpec['Command']).toBeUndefined();
    expect(task.ContainerSpec['Env']).toContain('MCPGW_BRIDGE_URL=http://tasks.bridge-{name}:8000');
    expect(task.ContainerSpec['Secrets']).toEqual([
      expect.objectContaining({
        File: { Name: 'mcpgw_session_key', UID: '1000', GID: '1000', Mode: 0o400 },
        SecretName: expect.stringMatching(/^mcpgw-gw_router-session-key-/),
      }),
    ]);
    expect(task.Networks).toContainEqual({ Target: 'mcpgw-gw_bridge-demo', Aliases: ['router'] });
    // The hash leaves the IDs out (the names carry the content), so recreated secrets do not roll the service.
    const again = serviceSpec(stack, router, { secrets: new Map([...ids.secrets].map(([k]) => [k, 'other'])), configs: ids.configs });
    expect(again.hash).toBe(hash);
    const bridge = serviceSpec(stack, stack.services.find((s) => s.key === 'bridge-memory')!, ids).spec;
    expect((bridge.TaskTemplate as { Resources: unknown }).Resources).toEqual({ Limits: { NanoCPUs: 1e9, MemoryBytes: 1024 ** 3, Pids: 512 } });
    expect((bridge.TaskTemplate as { ContainerSpec: { StopGracePeriod: number } }).ContainerSpec.StopGracePeriod).toBe(35e9);
  });

  it('refuses a hand edit up would not translate, naming its path', async () => {
    const { files } = await renderSampleStack(swarmSampleConfig({ routing: 'path', router: 'builtin' }));
    const text = files.get(STACK_FILE)!.replace('    init: true\n', '    init: true\n    privileged: true\n');
    try {
      parseStack(text, '/srv/gw/deploy/stack.yaml', { project: 'mcpgw-gw', env: {} });
      expect.unreachable();
    } catch (err) {
      expect(isGatewayError(err) && err.code).toBe('ERR_COMPOSE_INVALID');
      expect((err as Error).message).toContain('services.bridge-demo');
    }
  });
});

describe('what the swarm target refuses', () => {
  const code = async (render: () => Promise<unknown>): Promise<string | undefined> => {
    try {
      await render();
      return undefined;
    } catch (err) {
      return isGatewayError(err) ? err.code : String(err);
    }
  };

  it('refuses a deploy.bind it cannot keep (host-mode ports listen on every address)', async () => {
    const config = swarmSampleConfig({ routing: 'path', router: 'builtin' });
    expect(await code(() => renderSampleStack({ ...config, deploy: { ...config.deploy, bind: '127.0.0.1' } }))).toBe('ERR_CONFIG_INVALID');
  });

  it('refuses names swarm cannot hold (a secret name is at most 64 characters)', async () => {
    const config = swarmSampleConfig({ routing: 'path', router: 'builtin' });
    const project = `p${'x'.repeat(50)}`;
    expect(await code(() => renderSampleStack({ ...config, deploy: { ...config.deploy, project } }))).toBe('ERR_CONFIG_INVALID');
  });

  it('refuses network: none (planDeployment: no relay socket shared between swarm tasks)', async () => {
    const config = parseConfig(
      { ...sampleConfigInput({ routing: 'path', router: 'builtin' }, { sealed: { command: 'node', args: ['/x.mjs'], network: 'none' } }) },
      'test',
    );
    expect(await code(() => renderSampleStack(config))).toBe('ERR_CONFIG_INVALID');
  });
});

describe('render --target swarm writes a deploy folder', () => {
  let root: string;
  let out: string;
  beforeAll(async () => {
    const project = await makeSampleProject(sampleConfigInput({ routing: 'path', router: 'builtin' }));
    root = project.root;
    out = (await renderDeployment(project.config, project.paths, { packageRoot: PACKAGE_ROOT, version: '0.0.0-test', user: '1000:1000', target: 'swarm' })).out;
    // Rendered again (now over a swarm folder), and for compose and back: each replaces the last.
    await renderDeployment(project.config, project.paths, { packageRoot: PACKAGE_ROOT, version: '0.0.0-test', user: '1000:1000', target: 'compose' });
    await renderDeployment(project.config, project.paths, { packageRoot: PACKAGE_ROOT, version: '0.0.0-test', user: '1000:1000', target: 'swarm' });
  }, 180_000);
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('holds stack.yaml, config/, monitoring/ and build/, and each secret as a 0600 file in a 0700 folder; no compose.yaml', async () => {
    const entries = (await readdir(out)).filter((entry) => !entry.startsWith('.')).sort();
    expect(entries).toEqual(['build', 'config', 'monitoring', 'secrets', 'stack.yaml']);
    const secretDirs = await readdir(join(out, 'secrets'));
    expect(secretDirs.sort()).toEqual(['auth', 'bridge-docs', 'redis', 'router']);
    for (const dir of secretDirs) {
      expect(((await stat(join(out, 'secrets', dir))).mode & 0o777).toString(8)).toBe('700');
      for (const file of await readdir(join(out, 'secrets', dir))) expect(((await stat(join(out, 'secrets', dir, file))).mode & 0o777).toString(8)).toBe('600');
    }
    expect((await readFile(join(out, STACK_FILE), 'utf8')).split('\n')[0]).toContain(COMPOSE_HEADER_MARK);
  });
});

function mkdirTemp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'mcpgw-stack-'));
}
