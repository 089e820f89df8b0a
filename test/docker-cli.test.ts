import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Docker from 'dockerode';
import { connectDocker } from '../cli/deploy/docker/docker-connection.js';
import { isGatewayError } from '../runtime/errors.js';
import { upProgress } from '../cli/up-progress.js';
import { localInitArgs, makeTempDir, removeTempDir, runCli, STACK_FRAME } from './helpers/cli-run.js';

/** The Docker commands' contract with a person at a terminal, without needing an engine. */
describe('up, down and logs without a reachable engine (status of a Docker project: test/status.test.ts)', () => {
  let dir: string;
  const nowhere = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };

  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-docker-cli-');
    const init = await runCli(localInitArgs(dir));
    expect(init.code, init.stderr).toBe(0);
  });
  afterAll(() => removeTempDir(dir));

  it.each([['up'], ['down'], ['logs']])('%s says Docker is unreachable and how to fix it, exit 1, no stack', async (command) => {
    const result = await runCli([command, '--dir', dir], { env: nowhere });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: Docker is not reachable: no Docker socket at unix:///nonexistent/docker.sock');
    expect(result.stderr).toMatch(/^hint: start the Docker engine.*DOCKER_HOST/m);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('refuses a --tail that is not a number as a usage error', async () => {
    const result = await runCli(['logs', '--dir', dir, '--tail', 'ten'], { env: nowhere });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--tail ten is not a number of lines');
  });

  it('refuses a --timeout that is not a duration as a usage error', async () => {
    const result = await runCli(['up', '--dir', dir, '--timeout', 'soon'], { env: nowhere });
    expect(result.code).toBe(2);
  });

  it('lists the commands in --help', async () => {
    const help = await runCli(['--help']);
    for (const command of ['up', 'down', 'status', 'logs']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('connectDocker reports ERR_DOCKER_UNREACHABLE for a socket that is not there', async () => {
    const err = await connectDocker({ docker: new Docker({ socketPath: '/nonexistent/docker.sock' }) }).catch((e: unknown) => e);
    expect(isGatewayError(err) && err.code).toBe('ERR_DOCKER_UNREACHABLE');
  });
});

describe('the progress of up without a terminal', () => {
  it('prints one line per change of a service, on stderr, and nothing for pending or repeated states', () => {
    const out: string[] = [];
    const err: string[] = [];
    const progress = upProgress({ stdout: (t) => out.push(t), stderr: (t) => err.push(t) }, { interactive: false });
    progress.update({ service: 'auth', phase: 'pending' });
    progress.update({ service: 'auth', phase: 'building', detail: 'mcp-gateway-runtime-node:1-abc' });
    progress.update({ service: 'auth', phase: 'creating' });
    progress.update({ service: 'auth', phase: 'waiting' });
    progress.update({ service: 'auth', phase: 'waiting' });
    progress.update({ service: 'auth', phase: 'healthy' });
    progress.done();
    expect(out).toEqual([]);
    expect(err.join('')).toBe('auth: building image (mcp-gateway-runtime-node:1-abc)\nauth: creating\nauth: waiting for health\nauth: healthy\n');
  });
});
