import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveCatalogServer } from '../cli/catalog.js';
import { projectName } from '../cli/deploy/deploy-plan.js';
import { deployDown } from '../cli/deploy/docker/deploy-down.js';
import { LABEL_HOST_IMAGE } from '../cli/deploy/docker/host-image.js';
import { listProjectContainers } from '../cli/deploy/docker/project-containers.js';
import { loadConfig } from '../runtime/config/load-config.js';
import { serverDataDir } from '../runtime/config/server-mounts.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli, STACK_FRAME, type CliResult } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { freezePackage } from './helpers/frozen-package.js';
import { stepTimings } from './helpers/step-timings.js';

/**
 * `mcp-gateway images build` on a host without a registry (this one: DESIGN.md), and `up` with
 * the images it made: the images run what they promise, `up --json` and `down --json` print one
 * document, a second `up` changes nothing (its time is printed), and a server whose command is
 * missing fails `up` in seconds while Redis, auth, the router and the healthy server stay up, its
 * container kept with the catalog's data directories mounted.
 */

const SKIP_MESSAGE = 'Docker is not reachable: install docker.io (apt-get install -y docker.io) and start dockerd';
const docker = new Docker();
const reachable = await docker.ping().then(
  () => true,
  () => false,
);
if (!reachable && !process.env['CI']) console.warn(`skipping test/images-build.test.ts: ${SKIP_MESSAGE}`);

const MISSING_COMMAND = 'mcp-server-not-installed';

interface ImagesReport {
  images: Array<{ kind: string; tag?: string; built?: boolean; skipped?: string }>;
  upFlags: string[];
  config: Record<string, string>;
}

function ok(result: CliResult): CliResult {
  expect(result.code, `stdout:\n${result.stdout}\nstderr:\n${result.stderr}`).toBe(0);
  return result;
}

describe.skipIf(!reachable && !process.env['CI'])('images build and up with the images it made, on a real engine', () => {
  let frozen: string;
  let dir: string;
  let project: string;
  let report: ImagesReport;
  const scratchContainers: string[] = [];
  const { timings, timed } = stepTimings();
  const cli = (args: string[]): Promise<CliResult> => runCli(args, { packageRoot: frozen });
  const tagOf = (kind: string): string => report.images.find((i) => i.kind === kind)!.tag!;

  beforeAll(async () => {
    if (!reachable) throw new Error(`Docker is required in CI: ${SKIP_MESSAGE}`);
    frozen = await freezePackage();
    dir = await makeTempDir('mcpgw-images-');
    const port = await freePort();
    ok(await cli([...localInitArgs(dir, `http://127.0.0.1:${port}`), '--router', 'builtin']));
    const file = join(dir, 'mcp-gateway.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    doc.setIn(['deploy', 'bind'], '127.0.0.1');
    doc.setIn(['deploy', 'httpPort'], port);
    doc.setIn(['servers'], doc.createNode({ demo: { builtin: 'demo' } }));
    await writeFile(file, doc.toString());
    project = projectName(await loadConfig(dir), dir);
  }, 120_000);

  afterAll(async () => {
    if (!reachable) return;
    if (project) await deployDown(docker, project, { volumes: true }).catch(() => {});
    for (const name of scratchContainers)
      await docker
        .getContainer(name)
        .remove({ force: true })
        .catch(() => {});
    // The base images and the runtime images built FROM them (they inherit the label).
    const images = await docker.listImages({ filters: { label: [LABEL_HOST_IMAGE] } });
    images.sort((a, b) => Number(b.RepoTags?.[0]?.startsWith('mcp-gateway-runtime-')) - Number(a.RepoTags?.[0]?.startsWith('mcp-gateway-runtime-')));
    for (const image of images)
      await docker
        .getImage(image.Id)
        .remove({ force: true })
        .catch(() => {});
    if (dir) await removeTempDir(dir);
    if (frozen) await removeTempDir(frozen);
    console.info(`images build / up timings (ms): ${JSON.stringify(timings)}`);
  }, 180_000);

  it('builds node and redis images from the host, says why python and traefik are not built, and prints the up flags', async () => {
    const result = ok(await timed('images build', () => cli(['images', 'build', '--dir', dir, '--json'])));
    report = JSON.parse(result.stdout) as ImagesReport;
    expect(report.images.map((i) => i.kind)).toEqual(['node', 'python', 'redis', 'traefik']);
    expect(tagOf('node')).toMatch(/^mcp-gateway-base-node:/);
    expect(tagOf('redis')).toMatch(/^mcp-gateway-base-redis:/);
    expect(report.images.find((i) => i.kind === 'python')!.skipped).toMatch(/no configured server/);
    expect(report.images.find((i) => i.kind === 'traefik')!.skipped).toMatch(/traefik/);
    expect(report.upFlags).toEqual(['--node-image', tagOf('node'), '--redis-image', tagOf('redis')]);
    expect(report.config).toEqual({ 'deploy.nodeImage': tagOf('node'), 'deploy.redisImage': tagOf('redis') });

    // Again, as text: nothing to build, the same tags, the flags to use.
    const again = ok(await timed('images build again', () => cli(['images', 'build', '--dir', dir])));
    expect(again.stdout).toContain(`${tagOf('node')}  already there`);
    expect(again.stdout).toMatch(/traefik\s+not built: no traefik binary/);
    expect(again.stdout).toContain(`--node-image ${tagOf('node')} --redis-image ${tagOf('redis')}`);
  }, 240_000);

  /** Runs `cmd` in a fresh container of `image` as the containers of a deployment run (a user without a passwd entry). */
  const runIn = async (image: string, cmd: string[]): Promise<{ code: number; output: string }> => {
    const name = `mcpgw-images-test-${scratchContainers.length}-${process.pid}`;
    scratchContainers.push(name);
    const container = await docker.createContainer({ name, Image: image, Cmd: cmd, User: '1000:1000', Env: ['HOME=/tmp'] });
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })).toString('utf8');
    return { code: StatusCode, output: logs };
  };

  it('the node image runs node, npm, npx and sh; the redis image answers PING', async () => {
    const node = tagOf('node');
    const version = await runIn(node, ['node', '--version']);
    expect(version, version.output).toMatchObject({ code: 0 });
    expect(version.output).toContain(process.version);
    for (const tool of ['npx', 'npm']) {
      const result = await runIn(node, [tool, '--version']);
      expect(result.code, `${tool}: ${result.output}`).toBe(0);
      expect(result.output).toMatch(/\d+\.\d+\.\d+/);
    }
    expect(await runIn(node, ['sh', '-c', 'true'])).toMatchObject({ code: 0 });

    const name = `mcpgw-images-test-redis-${process.pid}`;
    scratchContainers.push(name);
    const redis = await docker.createContainer({ name, Image: tagOf('redis'), Cmd: ['redis-server', '--dir', '/data'], User: '1000:1000' });
    await redis.start();
    let answer = '';
    for (let attempt = 0; attempt < 50 && !answer.includes('PONG'); attempt++) {
      const exec = await redis.exec({ Cmd: ['redis-cli', 'ping'], AttachStdout: true, AttachStderr: true });
      const stream = await exec.start({ hijack: true, stdin: false });
      answer = await new Promise<string>((resolve) => {
        let text = '';
        stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
        stream.on('end', () => resolve(text));
      });
      if (!answer.includes('PONG')) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(answer).toContain('PONG');
  }, 120_000);

  it('up with the flags names the images it uses and prints one JSON document', async () => {
    const up = ok(await timed('first up', () => cli(['up', '--dir', dir, '--json', ...report.upFlags])));
    const result = JSON.parse(up.stdout) as {
      project: string;
      images: { node: { base: string }; redis: string };
      services: Array<{ service: string; outcome: string }>;
    };
    expect(result.project).toBe(project);
    expect(result.images.node.base).toBe(tagOf('node'));
    expect(result.images.redis).toBe(tagOf('redis'));
    expect(result.services.map((s) => `${s.service}:${s.outcome}`).sort()).toEqual(['auth:created', 'bridge-demo:created', 'redis:created', 'router:created']);
    expect(up.stderr).toMatch(new RegExp(`^images: mcp-gateway-runtime-node:\\S+ \\(built FROM ${tagOf('node')}\\), ${tagOf('redis')}$`, 'm'));
  }, 300_000);

  it('a second up with nothing changed changes nothing (its time is printed)', async () => {
    const up = ok(await timed('no-op up', () => cli(['up', '--dir', dir, '--json', ...report.upFlags])));
    const result = JSON.parse(up.stdout) as { durationMs: number; services: Array<{ outcome: string }> };
    expect(result.services.map((s) => s.outcome)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
    console.info(`no-op up: ${timings['no-op up']} ms for the CLI process, ${result.durationMs} ms inside runUp`);
  }, 120_000);

  it('fails up fast on a server whose command is missing, keeping Redis, auth, the router and the healthy server up', async () => {
    // The catalog's memory and filesystem servers, with a command the image does not have.
    const file = join(dir, 'mcp-gateway.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    for (const name of ['memory', 'filesystem']) {
      const entry = resolveCatalogServer(name, dir)!;
      for (const created of entry.createDirs) await mkdir(created.path, { recursive: true, mode: created.mode });
      doc.setIn(
        ['servers', name],
        doc.createNode({ command: MISSING_COMMAND, args: entry.args, env: entry.env, ...(entry.mounts ? { mounts: entry.mounts } : {}) }),
      );
    }
    await writeFile(file, doc.toString());

    const up = await timed('failing up', () => cli(['up', '--dir', dir, '--json', ...report.upFlags]));
    expect(up.code).toBe(1);
    const { error } = JSON.parse(up.stdout) as { error: { code: string; message: string; hint: string } };
    expect(error.code).toBe('ERR_DOCKER_START_FAILED');
    expect(error.message).toMatch(new RegExp(`service bridge-(?:memory|filesystem) cannot start its MCP server \\(command "${MISSING_COMMAND}" not found`));
    expect(up.stderr).not.toMatch(STACK_FRAME);
    expect(up.stderr).toMatch(/^running:$/m);
    expect(up.stderr).toMatch(/^not running \(`mcp-gateway logs NAME` shows why\):$/m);
    console.info(`failing up: ${timings['failing up']} ms`);

    const containers = await listProjectContainers(docker, project);
    const state = Object.fromEntries(containers.map((c) => [c.service, c.state === 'running' ? `running:${c.health}` : c.state]));
    expect(state).toEqual({
      redis: 'running:healthy',
      auth: 'running:healthy',
      router: 'running:healthy',
      'bridge-demo': 'running:healthy',
      'bridge-memory': 'exited',
      'bridge-filesystem': 'exited',
    });

    // Their data directories are in the containers: memory's file in its data volume (at the host path), filesystem's files/ bound.
    const mounts = async (service: string) => {
      const info = await docker.getContainer(containers.find((c) => c.service === service)!.id).inspect();
      return (info.Mounts as Array<{ Type: string; Name?: string; Source: string; Destination: string; RW: boolean }>).map((m) => ({
        type: m.Type,
        name: m.Name,
        destination: m.Destination,
        rw: m.RW,
      }));
    };
    const memoryDir = serverDataDir(dir, 'memory');
    expect(resolveCatalogServer('memory', dir)!.env['MEMORY_FILE_PATH']!.startsWith(`${memoryDir}/`)).toBe(true);
    expect(await mounts('bridge-memory')).toContainEqual({ type: 'volume', name: `${project}_data-memory`, destination: memoryDir, rw: true });
    const files = resolveCatalogServer('filesystem', dir)!.mounts![0]!.path;
    expect(await mounts('bridge-filesystem')).toContainEqual({ type: 'bind', name: undefined, destination: files, rw: true });
  }, 300_000);

  it('down --json says what it removed', async () => {
    const down = ok(await cli(['down', '--dir', dir, '--json', '--volumes']));
    const result = JSON.parse(down.stdout) as { project: string; removed: { containers: string[]; volumes: string[] }; keptVolumes: string[] };
    expect(result.project).toBe(project);
    expect(result.removed.containers).toHaveLength(6);
    expect(result.removed.volumes).toContain(`${project}_redis-data`);
    expect(result.keptVolumes).toEqual([]);
  }, 120_000);
});
