import { access, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderedDeployReason } from '../cli/deploy/docker-deployment.js';
import { projectPaths } from '../runtime/config/project-paths.js';
import { githubInitArgs, makeTempDir, removeTempDir, runCli, STACK_FRAME } from './helpers/cli-run.js';

/**
 * The swarm target's refusals at the command line, against an engine that is no swarm manager.
 * The engine here is a stand-in built from Docker's documented Engine API (GET /_ping, and
 * GET /info, whose Swarm.LocalNodeState and Swarm.ControlAvailable say what the node is): the
 * real engine of this machine is a swarm manager in CI, and leaving its swarm is not a test's
 * to do.
 */

function engineStandIn(swarm: { LocalNodeState: string; ControlAvailable: boolean }): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').replace(/^\/v[0-9.]+/, '').split('?')[0];
    res.setHeader('api-version', '1.41');
    if (path === '/_ping') return void res.end('OK');
    if (path === '/info') return void res.end(JSON.stringify({ ID: 'stand-in', Swarm: { NodeID: '', Error: '', ...swarm } }));
    res.statusCode = 404;
    res.end(JSON.stringify({ message: `not in this stand-in: ${req.method} ${path}` }));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `tcp://127.0.0.1:${(server.address() as AddressInfo).port}`, server })));
}

describe('the swarm target without a swarm manager', () => {
  let dir: string;
  let inactive: { url: string; server: Server };
  let worker: { url: string; server: Server };
  beforeAll(async () => {
    inactive = await engineStandIn({ LocalNodeState: 'inactive', ControlAvailable: false });
    worker = await engineStandIn({ LocalNodeState: 'active', ControlAvailable: false });
    dir = await makeTempDir('mcpgw-swarm-cli-');
    const init = await runCli([...githubInitArgs(dir, 'http://127.0.0.1:18080', 'http://127.0.0.1:9'), '--router', 'builtin']);
    expect(init.code, init.stderr).toBe(0);
  });
  afterAll(async () => {
    inactive?.server.close();
    worker?.server.close();
    if (dir) await removeTempDir(dir);
  });

  it('up --target swarm fails with ERR_SWARM_UNAVAILABLE and the hint docker swarm init, before rendering anything', async () => {
    const up = await runCli(['up', '--target', 'swarm', '--dir', dir, '--json'], { env: { DOCKER_HOST: inactive.url } });
    expect(up.code).toBe(1);
    expect(JSON.parse(up.stdout)).toMatchObject({ error: { code: 'ERR_SWARM_UNAVAILABLE', hint: expect.stringContaining('docker swarm init') } });
    expect(up.stderr).toMatch(/^hint: .*docker swarm init/m);
    expect(up.stderr).not.toMatch(STACK_FRAME);
    await expect(access(join(dir, 'deploy'))).rejects.toThrow();
  });

  it('a swarm worker is refused too: services are deployed through a manager', async () => {
    const status = await runCli(['status', '--target', 'swarm', '--dir', dir, '--json'], { env: { DOCKER_HOST: worker.url } });
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ error: { code: 'ERR_SWARM_UNAVAILABLE', hint: expect.stringContaining('docker swarm init') } });
  });

  it('up refuses a target it does not deploy (kubernetes manifests are applied with kubectl)', async () => {
    const up = await runCli(['up', '--target', 'kubernetes', '--dir', dir]);
    expect(up.code).toBe(2);
    expect(up.stderr).toContain('kubernetes');
  });

  it('render --target swarm writes deploy/stack.yaml, and down, status and logs then default to the swarm target', async () => {
    const file = join(dir, 'mcp-gateway.yaml');
    const doc = parseDocument(await readFile(file, 'utf8'));
    expect(doc.getIn(['deploy', 'router'])).toBe('builtin');
    const render = await runCli(['render', '--target', 'swarm', '--dir', dir]);
    expect(render.code, render.stderr).toBe(0);
    // How to start it, for that target: the compose hint would start something else.
    expect(render.stdout).toContain('docker stack deploy -c stack.yaml');
    expect(render.stdout).toContain(`mcp-gateway up --target swarm --dir`);
    expect(render.stdout).not.toContain('docker compose up');
    const kubernetes = await runCli(['render', '--target', 'kubernetes', '--dir', dir, '--out', join(dir, 'k8s')]);
    expect(kubernetes.code, kubernetes.stderr).toBe(0);
    expect(kubernetes.stdout).toContain(`kubectl apply -k ${join(dir, 'k8s', 'kubernetes')}`);
    expect(kubernetes.stdout).not.toContain('docker compose up');
    expect(await renderedDeployReason(projectPaths(dir))).toBe('deploy/stack.yaml was rendered');
    for (const command of [['down'], ['status', '--json'], ['logs']]) {
      const result = await runCli([...command, '--dir', dir], { env: { DOCKER_HOST: inactive.url } });
      expect({ command, code: result.code, error: /ERR_SWARM_UNAVAILABLE|not part of a swarm/.test(result.stdout + result.stderr) }).toEqual({
        command,
        code: 1,
        error: true,
      });
    }
  }, 120_000);
});
