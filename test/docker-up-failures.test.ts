import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deployDown } from '../cli/deploy/docker/deploy-down.js';
import { deployUp, type UpEvent } from '../cli/deploy/docker/deploy-up.js';
import { connectDocker, type DockerConnection } from '../cli/deploy/docker/docker-connection.js';
import { LABEL_PROJECT } from '../cli/deploy/docker/labels.js';
import { waitReady } from '../cli/deploy/docker/wait-ready.js';
import { loadComposeProject } from '../cli/deploy/docker/load-compose-project.js';
import { listProjectContainers } from '../cli/deploy/docker/project-containers.js';
import { isGatewayError, type GatewayError } from '../runtime/errors.js';
import { freePort } from './helpers/free-port.js';
import { buildTestBaseImages } from './helpers/scratch-images.js';

/**
 * `up`'s reconciliation and failure handling on the real engine, with tiny services (a node
 * one-liner) so each case takes seconds: rollback of what a run created, restoring a replaced
 * container, a taken port, a failed build, a name taken outside the project, removed services,
 * and never touching what is not the project's.
 */

const SKIP_MESSAGE = 'Docker is not reachable: install docker.io (apt-get install -y docker.io) and start dockerd';
const reachable = await new Docker().ping().then(
  () => true,
  () => false,
);

const SERVE = "require('http').createServer((q,s)=>s.end(process.env.REPLY||'ok')).listen(8000)";
const CHECK = "fetch('http://127.0.0.1:8000').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";

describe.skipIf(!reachable && !process.env['CI'])('deployUp on a real engine', () => {
  let connection: DockerConnection;
  let nodeImage: string;
  let dir: string | undefined;
  let project: string | undefined;
  const unrelated: string[] = [];

  beforeAll(async () => {
    if (!reachable) throw new Error(`Docker is required in CI: ${SKIP_MESSAGE}`);
    connection = await connectDocker();
    nodeImage = (await buildTestBaseImages(connection.docker)).node;
  }, 240_000);

  afterEach(async () => {
    if (project) await deployDown(connection.docker, project, { volumes: true });
    for (const name of unrelated.splice(0))
      await connection.docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => {});
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
    project = undefined;
  });

  afterAll(async () => {
    await connection?.docker
      .getImage('mcpgw-test-broken:1')
      .remove()
      .catch(() => {});
  });

  async function composeProject(services: Record<string, string>) {
    dir ??= await mkdtemp(join(tmpdir(), 'mcpgw-up-'));
    project ??= `mcpgw-t${randomBytes(4).toString('hex')}`;
    const body = Object.entries(services)
      .map(([name, definition]) => `  ${name}:\n${definition.replace(/^/gm, '    ')}`)
      .join('\n');
    await writeFile(join(dir, 'compose.yaml'), `name: ${project}\nservices:\n${body}\nvolumes:\n  data: {}\n`);
    return loadComposeProject(join(dir, 'compose.yaml'));
  }

  const web = (extra = ''): string =>
    // init: node as PID 1 would ignore SIGTERM, and every stop would wait out its grace period.
    [
      `image: ${nodeImage}`,
      'init: true',
      `command: ["/usr/local/bin/node", "-e", ${JSON.stringify(SERVE)}]`,
      `healthcheck: { test: ["CMD", "/usr/local/bin/node", "-e", ${JSON.stringify(CHECK)}], interval: 1s, retries: 30 }`,
      extra,
    ]
      .filter(Boolean)
      .join('\n');
  const crashing = (code: number): string =>
    [`image: ${nodeImage}`, `command: ["/usr/local/bin/node", "-e", "process.exit(${code})"]`, 'restart: "no"'].join('\n');

  async function failure(run: Promise<unknown>): Promise<GatewayError> {
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isGatewayError(err)) throw new Error(`expected a GatewayError, got ${String(err)}`);
    return err;
  }

  const names = async (): Promise<string[]> => (await listProjectContainers(connection.docker, project!)).map((c) => `${c.name}:${c.state}`).sort();

  it('keeps what became healthy when a later service fails, and keeps the failed one stopped for its logs', async () => {
    const events: UpEvent[] = [];
    const compose = await composeProject({ web: web('volumes: [data:/data]'), worker: `${crashing(3)}\ndepends_on: { web: { condition: service_healthy } }` });
    const err = await failure(deployUp({ connection, project: compose, onEvent: (e) => events.push(e), healthTimeoutMs: 30_000 }));
    expect(err.code).toBe('ERR_DOCKER_START_FAILED');
    expect(err.message).toMatch(/service worker stopped during start \(exit code 3\)/);
    expect(await names()).toEqual([`${project}-web-1:running`, `${project}-worker-1:exited`]);
    expect((await connection.docker.listNetworks()).map((n) => n.Name)).toContain(`${project}_default`);
    expect(events.filter((e) => e.phase === 'failed').map((e) => e.service)).toEqual(['worker']);
    expect(events.filter((e) => e.phase === 'rolled back')).toEqual([]);
  }, 60_000);

  it('an interrupted up still undoes everything it created', async () => {
    const stop = new AbortController();
    const compose = await composeProject({ web: web('volumes: [data:/data]') });
    const err = await failure(
      deployUp({
        connection,
        project: compose,
        signal: stop.signal,
        onEvent: (e) => {
          if (e.phase === 'waiting') stop.abort();
        },
      }),
    );
    expect(err.code).toBe('ERR_DOCKER_INTERRUPTED');
    expect(await names()).toEqual([]);
    expect(((await connection.docker.listVolumes()).Volumes ?? []).map((v) => v.Name)).not.toContain(`${project}_data`);
  }, 60_000);

  it('puts the previous container back when its replacement fails', async () => {
    await deployUp({ connection, project: await composeProject({ web: web() }) });
    const [before] = await listProjectContainers(connection.docker, project!);
    const broken = await composeProject({ web: web('environment: { REPLY: changed }').replace(JSON.stringify(SERVE), JSON.stringify('process.exit(4)')) });
    const err = await failure(deployUp({ connection, project: broken, healthTimeoutMs: 30_000 }));
    expect(err.message).toContain('service web');
    const after = await listProjectContainers(connection.docker, project!);
    expect(after.map((c) => ({ id: c.id, name: c.name, state: c.state }))).toEqual([{ id: before!.id, name: `${project}-web-1`, state: 'running' }]);
  }, 60_000);

  it('refuses a taken host port before building or creating anything, naming the port and the service', async () => {
    const port = await freePort();
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const compose = await composeProject({ web: web(`ports: ["127.0.0.1:${port}:8000"]`), other: web() });
      const err = await failure(deployUp({ connection, project: compose }));
      expect(err.code).toBe('ERR_DOCKER_PORT_IN_USE');
      expect(err.message).toContain(`port 127.0.0.1:${port} for service web`);
      expect(await names()).toEqual([]);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('names the service and shows the last build lines when its image does not build', async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcpgw-up-'));
    await mkdir(join(dir, 'ctx'));
    await writeFile(join(dir!, 'ctx', 'Dockerfile'), 'FROM scratch\nCOPY missing-file /missing-file\n');
    const compose = await composeProject({ broken: 'image: mcpgw-test-broken:1\nbuild: { context: ./ctx }', web: web() });
    const err = await failure(deployUp({ connection, project: compose }));
    expect(err.code).toBe('ERR_DOCKER_BUILD_FAILED');
    expect(err.message).toMatch(/mcpgw-test-broken:1 for broken failed/);
    expect(err.message).toMatch(/last build output[\s\S]*missing-file/);
    expect(await names()).toEqual([]);
  }, 60_000);

  it('removes the container of a removed service, keeps the rest, and never touches containers outside the project', async () => {
    await deployUp({ connection, project: await composeProject({ web: web(), other: web() }) });
    const outsider = `${project}-outsider`;
    unrelated.push(outsider);
    await (await connection.docker.createContainer({ name: outsider, Image: nodeImage, Cmd: ['/usr/local/bin/node', '-e', 'setTimeout(()=>{},1e9)'] })).start();
    const web1 = (await listProjectContainers(connection.docker, project!)).find((c) => c.service === 'web')!.id;

    const result = await deployUp({ connection, project: await composeProject({ web: web() }) });
    expect(result.services).toEqual([{ service: 'web', container: `${project}-web-1`, outcome: 'unchanged' }]);
    expect(result.removed).toEqual([`${project}-other-1`]);
    expect((await listProjectContainers(connection.docker, project!)).map((c) => c.id)).toEqual([web1]);

    await deployDown(connection.docker, project!);
    expect((await connection.docker.getContainer(outsider).inspect()).State.Running).toBe(true);
  }, 90_000);

  it('leaves no connection open after health probes (a detached exec kept the CLI alive for five minutes)', async () => {
    project = `mcpgw-t${randomBytes(4).toString('hex')}`;
    const name = `${project}-probe`;
    unrelated.push(name);
    // A check interval of an hour: only the probe (an exec of the same test) can find it healthy.
    const container = await connection.docker.createContainer({
      name,
      Image: nodeImage,
      Cmd: ['/usr/local/bin/node', '-e', SERVE],
      Healthcheck: { Test: ['CMD', '/usr/local/bin/node', '-e', CHECK], Interval: 3600e9 },
      HostConfig: { Init: true },
    });
    await container.start();
    const open = (): number => process.getActiveResourcesInfo().filter((r) => r === 'PipeWrap' || r === 'TCPSocketWrap').length;
    const before = open();
    expect(await waitReady(connection.docker, container.id, { service: 'probe', timeoutMs: 20_000, probe: true })).toBe('healthy');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(open()).toBeLessThanOrEqual(before);
  }, 60_000);

  it('refuses to take over a container name that belongs to something else', async () => {
    await composeProject({ web: web() });
    const squatter = `${project}-web-1`;
    unrelated.push(squatter);
    await connection.docker.createContainer({ name: squatter, Image: nodeImage, Cmd: ['/usr/local/bin/node', '-e', '0'] });
    const err = await failure(deployUp({ connection, project: await composeProject({ web: web() }) }));
    expect(err.code).toBe('ERR_DOCKER_NAME_CONFLICT');
    expect(err.message).toContain(squatter);
    expect((await connection.docker.getContainer(squatter).inspect()).Config.Labels?.[LABEL_PROJECT]).toBeUndefined();
  }, 60_000);
});
