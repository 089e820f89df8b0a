import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bubblewrapArgs } from '../runtime/bridge/sandbox/bubblewrap-args.js';
import { confinedLaunch } from '../runtime/bridge/sandbox/confined-launch.js';
import { seatbeltProfile } from '../runtime/bridge/sandbox/seatbelt-profile.js';
import { loadConfig, parseConfig } from '../runtime/config/load-config.js';
import { checkSandbox } from '../cli/doctor/sandbox-check.js';
import { defaultDoctorDeps } from '../cli/doctor/doctor-deps.js';
import { projectPaths } from '../runtime/config/project-paths.js';
import { isGatewayError } from '../runtime/errors.js';
import { makeTempDir, removeTempDir } from './helpers/cli-run.js';

const base = { publicUrl: 'http://127.0.0.1:8080', provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'] };

async function loadError(dir: string, servers: Record<string, unknown>, extra: Record<string, unknown> = {}): Promise<string> {
  await writeFile(join(dir, 'mcp-gateway.yaml'), stringify({ ...base, servers, ...extra }));
  try {
    await loadConfig(dir);
  } catch (err) {
    if (isGatewayError(err) && err.code === 'ERR_CONFIG_INVALID') return err.message;
    throw err;
  }
  throw new Error('the config loaded');
}

describe('sandbox settings in mcp-gateway.yaml', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-sandbox-config-');
    await mkdir(join(dir, '.secrets'), { recursive: true });
    await mkdir(join(dir, '.mcp-gateway'), { recursive: true });
    await mkdir(join(dir, 'files'));
  });
  afterAll(async () => removeTempDir(dir));

  it('refuses a mount that does not exist, naming the dotted path', async () => {
    const message = await loadError(dir, { s: { command: 'x', mounts: [{ path: 'files' }, { path: '/nonexistent/mcpgw' }] } });
    expect(message).toMatch(/servers\.s\.mounts\.1\.path: \/nonexistent\/mcpgw does not exist/);
  });

  it('refuses a mount inside .secrets/ or the store, also through a symlink, and one that contains them', async () => {
    await writeFile(join(dir, '.secrets', 'admin-token'), 'x');
    expect(await loadError(dir, { s: { command: 'x', mounts: [{ path: '.secrets/admin-token', readOnly: true }] } })).toMatch(
      /servers\.s\.mounts\.0\.path: .* lies inside .*\.secrets/,
    );
    expect(await loadError(dir, { s: { command: 'x', mounts: [{ path: '.mcp-gateway' }] } })).toMatch(
      /servers\.s\.mounts\.0\.path: .* lies inside .*\.mcp-gateway/,
    );
    expect(await loadError(dir, { s: { command: 'x', mounts: [{ path: 'mcp-gateway.yaml' }] } })).toMatch(/lies inside .*mcp-gateway\.yaml/);
    const { symlink } = await import('node:fs/promises');
    await symlink(join(dir, '.secrets'), join(dir, 'innocent'));
    expect(await loadError(dir, { s: { command: 'x', mounts: [{ path: 'innocent' }] } })).toMatch(
      /servers\.s\.mounts\.0\.path: .*innocent lies inside .*\.secrets/,
    );
    expect(await loadError(dir, { s: { command: 'x', mounts: [{ path: '.' }] } })).toMatch(/servers\.s\.mounts\.0\.path: .* contains .*/);
  });

  it('accepts a mount of a directory in the project that holds no secrets', async () => {
    await writeFile(join(dir, 'mcp-gateway.yaml'), stringify({ ...base, servers: { s: { command: 'x', mounts: [{ path: 'files', readOnly: true }] } } }));
    const config = await loadConfig(dir);
    expect(config.servers['s']).toMatchObject({ mounts: [{ path: 'files', readOnly: true }] });
  });

  it.each([
    ['network other than none', { network: 'host' }, /servers\.s\.network: must be none/],
    ['an unknown sandbox mode', { sandbox: 'loose' }, /servers\.s\.sandbox: must be on, strict or off/],
    ['a memory limit in unknown units', { limits: { memory: '5 parsecs' } }, /servers\.s\.limits\.memory: not a memory size/],
    ['a memory limit of zero', { limits: { memory: '0m' } }, /servers\.s\.limits\.memory: not a memory size/],
    ['cpus as text', { limits: { cpus: 'two' } }, /servers\.s\.limits\.cpus/],
    ['a pids limit below 8', { limits: { pids: 2 } }, /servers\.s\.limits\.pids/],
    ['an unknown key in a mount', { mounts: [{ path: '/tmp', mode: 'rw' }] }, /servers\.s\.mounts\.0/],
  ])('refuses %s with the dotted path', (_name, fields, pattern) => {
    expect(() => parseConfig({ ...base, servers: { s: { command: 'x', ...fields } } }, 'test config')).toThrow(pattern);
  });

  it('refuses a top-level sandbox mode it does not know', () => {
    expect(() => parseConfig({ ...base, sandbox: 'maybe' }, 'test config')).toThrow(/sandbox: must be on, strict or off/);
  });

  it('refuses a cwd inside the hidden project directory unless it is granted', () => {
    const config = parseConfig({ ...base, servers: { s: { command: 'node', args: ['main.js'], cwd: 'files' } } }, 'test config');
    const server = config.servers['s']!;
    if ('url' in server) throw new Error('unexpected');
    const launch = { command: 'node', args: ['main.js'], env: {}, cwd: join(dir, 'files') };
    try {
      confinedLaunch({ name: 's', server, launch, config, projectDir: dir, sandbox: { kind: 'bubblewrap', path: '/usr/bin/bwrap' } });
      throw new Error('no error');
    } catch (err) {
      expect(isGatewayError(err) && err.code).toBe('ERR_CONFIG_INVALID');
      expect((err as Error).message).toMatch(/servers\.s\.cwd: .* lies in the project directory/);
    }
  });
});

describe('the sandbox command line', () => {
  const policy = {
    mode: 'on' as const,
    hidden: ['/srv/gw'],
    dataDir: '/srv/gw/.mcp-gateway/servers/s',
    cwd: '/srv/gw/.mcp-gateway/servers/s',
    tempDir: '/srv/gw/.mcp-gateway/servers/s/.tmp',
    mounts: [
      { hostPath: '/data/in', readOnly: true },
      { hostPath: '/srv/gw/files', readOnly: false },
    ],
    readable: [],
    network: false,
  };

  it('hides the project after binding outside grants, then binds the data directory and inner grants on top, read-only underneath', () => {
    const args = bubblewrapArgs(policy, 'node', ['server.js']);
    const at = (...needle: string[]): number => args.findIndex((_, i) => needle.every((part, j) => args[i + j] === part));
    expect(at('--unshare-net')).toBeGreaterThan(-1);
    expect(at('--die-with-parent')).toBeGreaterThan(-1);
    expect(at('--ro-bind', '/', '/')).toBeLessThan(at('--ro-bind', '/data/in', '/data/in'));
    // The host's /tmp is not covered: a checkout or program living there stays visible.
    expect(args).not.toContain('/tmp');
    expect(at('--setenv', 'TMPDIR', policy.tempDir)).toBeGreaterThan(-1);
    expect(at('--ro-bind', '/data/in', '/data/in')).toBeLessThan(at('--tmpfs', '/srv/gw'));
    expect(at('--tmpfs', '/srv/gw')).toBeLessThan(at('--bind', policy.dataDir, policy.dataDir));
    expect(at('--bind', policy.dataDir, policy.dataDir)).toBeLessThan(at('--bind', '/srv/gw/files', '/srv/gw/files'));
    expect(at('--bind', '/srv/gw/files', '/srv/gw/files')).toBeLessThan(at('--remount-ro', '/srv/gw'));
    expect(args.slice(-3)).toEqual(['--', 'node', 'server.js']);
  });

  it('keeps network when asked and never passes the environment on the command line', () => {
    const args = bubblewrapArgs({ ...policy, network: true }, 'node', []);
    expect(args).not.toContain('--unshare-net');
    expect(args.filter((arg) => arg === '--setenv')).toHaveLength(2);
  });

  it('writes a Seatbelt profile that denies the hidden directories and allows the data directory after them', () => {
    const profile = seatbeltProfile(policy, ['/private/tmp']);
    expect(profile.indexOf('(deny file-read* file-write* (subpath "/srv/gw"))')).toBeLessThan(
      profile.indexOf(`(allow file-read* file-write* (subpath "${policy.dataDir}")`),
    );
    expect(profile).toContain('(deny network*)');
    expect(profile).toContain('(allow file-read* (subpath "/data/in"))');
    expect(seatbeltProfile({ ...policy, hidden: ['/a "quoted" dir'] }, [])).toContain('(subpath "/a \\"quoted\\" dir")');
  });
});

describe('doctor: the sandbox check', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('mcpgw-sandbox-doctor-');
  });
  afterAll(async () => removeTempDir(dir));

  const ctxFor = (servers: Record<string, unknown>, found: ReturnType<ReturnType<typeof defaultDoctorDeps>['sandbox']>, dockerReason?: string) => ({
    paths: projectPaths(dir),
    config: parseConfig({ ...base, servers }, 'test config'),
    deps: defaultDoctorDeps({ sandbox: () => found }),
    dockerReason,
    dockerEngine: () => Promise.reject(new Error('no docker')),
    dockerProject: 'p',
  });
  const missing = { kind: 'none' as const, reason: 'bubblewrap (bwrap) is not installed', install: 'install it: apt-get install bubblewrap' };

  it('fails when serve could not confine a stdio server, with the install command', async () => {
    const result = await checkSandbox(ctxFor({ s: { command: 'x' } }, missing));
    expect(result).toMatchObject({
      name: 'sandbox',
      status: 'fail',
      detail: expect.stringMatching(/not installed, so serve will not start 1 sandboxed server/),
      fix: expect.stringMatching(/apt-get install bubblewrap/),
    });
  });

  it('passes with bubblewrap, warns about servers with the sandbox off, and skips without stdio servers', async () => {
    const found = { kind: 'bubblewrap' as const, path: '/usr/bin/bwrap' };
    expect(await checkSandbox(ctxFor({ s: { command: 'x' } }, found))).toMatchObject({ status: 'pass' });
    expect(await checkSandbox(ctxFor({ s: { command: 'x', sandbox: 'off' } }, found))).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/sandbox off .*: s/),
    });
    expect(await checkSandbox(ctxFor({ r: { url: 'https://mcp.example.com/mcp' } }, missing))).toMatchObject({ status: 'skip' });
    expect(await checkSandbox(ctxFor({ s: { command: 'x' } }, missing, 'deploy/ exists'))).toMatchObject({ status: 'warn' });
  });
});
