import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { DeploymentStatus, EmbeddedStatus } from '../cli/actions/status.js';
import { ECHO_SERVER } from './helpers/bridge-harness.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli, STACK_FRAME } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ServeProcess } from './helpers/serve-process.js';
import { waitForHealth } from './helpers/wait-for-health.js';

const reachable = await new Docker().ping().then(
  () => true,
  () => false,
);

/** No engine answers here: the Docker commands must say so, and no embedded project may ever ask it. */
const NOWHERE = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

describe('status of an embedded project (mcp-gateway serve)', () => {
  let dir: string;
  let port: number;
  let publicUrl: string;

  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-status-');
    port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    const init = await runCli(localInitArgs(dir, publicUrl));
    expect(init.code, init.stderr).toBe(0);
    const added = await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_SERVER}"`]);
    expect(added.code, added.stderr).toBe(0);
  });
  afterAll(() => removeTempDir(dir));

  // The bug: status --json on an embedded project said "no Docker socket at unix://[object Promise]".
  it('says no serve is running, exit 0, without asking Docker', async () => {
    const result = await runCli(['status', '--dir', dir], { env: NOWHERE });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`no mcp-gateway serve is running for ${dir} (start it with mcp-gateway serve --dir ${dir})`);
    expect(result.stdout).toMatch(new RegExp(`^  listen +127\\.0\\.0\\.1:${port}$`, 'm'));
    expect(result.stdout).toMatch(/^echo +- +http:\/\/127\.0\.0\.1:\d+\/echo\/mcp +-$/m);
    expect(result.stdout).not.toMatch(/Docker/);
  });

  it('--json says gateway null when no serve is running', async () => {
    const result = await runCli(['status', '--dir', dir, '--json'], { env: NOWHERE });
    expect(result.code, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as EmbeddedStatus;
    expect(status).toEqual({
      mode: 'embedded',
      dir,
      publicUrl,
      listen: `127.0.0.1:${port}`,
      gateway: null,
      servers: [{ name: 'echo', url: `${publicUrl}/echo/mcp`, healthy: null, sessions: null, detail: null }],
    });
  });

  describe('with a serve running', () => {
    let serve: ServeProcess;
    beforeAll(async () => {
      serve = new ServeProcess(['--dir', dir]);
      await serve.waitFor(/mcp-gateway is ready/);
      // 200 once the echo server has answered its first probe.
      await waitForHealth(publicUrl);
    });
    afterAll(async () => {
      await serve.stop();
    });

    it('reports its pid, listen address and health, and each server', async () => {
      const result = await runCli(['status', '--dir', dir], { env: NOWHERE });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^mcp-gateway serve is running for ${dir} \\(pid ${serve.pid}, since `, 'm'));
      expect(result.stdout).toMatch(new RegExp(`^  listen +127\\.0\\.0\\.1:${port}$`, 'm'));
      expect(result.stdout).toMatch(new RegExp(`^  health +ok \\(http://127\\.0\\.0\\.1:${port}/health\\)$`, 'm'));
      expect(result.stdout).toMatch(/^echo +0 +http:\/\/127\.0\.0\.1:\d+\/echo\/mcp +healthy$/m);
    });

    it('--json carries the same', async () => {
      const result = await runCli(['status', '--dir', dir, '--json'], { env: NOWHERE });
      expect(result.code, result.stderr).toBe(0);
      const status = JSON.parse(result.stdout) as EmbeddedStatus;
      expect(status.gateway).toEqual({
        pid: serve.pid,
        since: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        health: 'ok',
        healthUrl: `http://127.0.0.1:${port}/health`,
        reason: null,
      });
      expect(status.servers).toEqual([{ name: 'echo', url: `${publicUrl}/echo/mcp`, healthy: true, sessions: 0, detail: null }]);
    });
  });

  it('says none runs again once that serve was stopped by its pid', async () => {
    const status = JSON.parse((await runCli(['status', '--dir', dir, '--json'], { env: NOWHERE })).stdout) as EmbeddedStatus;
    expect(status.gateway).toBeNull();
  });
});

describe('status of a Docker project whose engine is unreachable', () => {
  let dir: string;
  let home: string;

  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-status-docker-');
    const init = await runCli(localInitArgs(dir));
    expect(init.code, init.stderr).toBe(0);
    // deploy.project makes it a Docker project without rendering deploy/ (docker-deployment.ts).
    const file = join(dir, 'mcp-gateway.yaml');
    const config = parse(await readFile(file, 'utf8')) as { deploy: Record<string, unknown> };
    config.deploy['project'] = 'mcpgw-status-unreachable';
    await writeFile(file, stringify(config));
    // A HOME whose ~/.docker/run/docker.sock is no socket: docker-modem's default (DOCKER_HOST
    // unset) picks it, through its async socket path, and nothing answers there.
    home = await makeTempDir('mcpgw-status-home-');
    await mkdir(join(home, '.docker', 'run'), { recursive: true });
    await writeFile(join(home, '.docker', 'run', 'docker.sock'), '');
  });
  afterAll(async () => {
    await removeTempDir(dir);
    await removeTempDir(home);
  });

  it('names the DOCKER_HOST socket that is not there, exit 1, no stack', async () => {
    const result = await runCli(['status', '--dir', dir], { env: NOWHERE });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: Docker is not reachable: no Docker socket at unix:///nonexistent/docker.sock');
    expect(result.stderr).toMatch(/^hint: start the Docker engine/m);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  // The bug: without DOCKER_HOST the message read "no Docker socket at unix://[object Promise]".
  it('names the default socket it tried when DOCKER_HOST is unset, never [object Promise]', async () => {
    const env: Record<string, string> = { HOME: home, DOCKER_HOST: '' };
    for (const args of [
      ['status', '--dir', dir],
      ['status', '--dir', dir, '--json'],
    ]) {
      const result = await runCli(args, { env });
      expect(result.code).toBe(1);
      const output = result.stdout + result.stderr;
      expect(output).not.toContain('[object Promise]');
      expect(output).toContain(`unix://${join(home, '.docker', 'run', 'docker.sock')}`);
    }
  });

  it('--json reports the failure as one JSON document', async () => {
    const result = await runCli(['status', '--dir', dir, '--json'], { env: NOWHERE });
    expect(result.code).toBe(1);
    const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string } };
    expect(error.code).toBe('ERR_DOCKER_UNREACHABLE');
    expect(error.message).toContain('unix:///nonexistent/docker.sock');
  });
});

describe.skipIf(!reachable && !process.env['CI'])('status of a Docker project on the real engine', () => {
  let dir: string;
  beforeAll(async () => {
    if (!reachable) throw new Error('Docker is required in CI: install docker.io (apt-get install -y docker.io) and start dockerd');
    dir = await makeTempDir('mcpgw-status-docker-');
    expect((await runCli(localInitArgs(dir))).code).toBe(0);
    const file = join(dir, 'mcp-gateway.yaml');
    const config = parse(await readFile(file, 'utf8')) as { deploy: Record<string, unknown> };
    config.deploy['project'] = 'mcpgw-status-never-started';
    await writeFile(file, stringify(config));
  });
  afterAll(() => removeTempDir(dir));

  it('lists no containers for a project that was never started, exit 0', async () => {
    const text = await runCli(['status', '--dir', dir]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toBe('mcpgw-status-never-started: no containers (start it with mcp-gateway up)\n');
    const json = JSON.parse((await runCli(['status', '--dir', dir, '--json'])).stdout) as DeploymentStatus;
    expect(json).toEqual({ mode: 'docker', project: 'mcpgw-status-never-started', reason: 'deploy.project set in the config', services: [] });
  });
});
