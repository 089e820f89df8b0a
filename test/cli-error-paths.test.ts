import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../cli/main.js';
import { STACK_FRAME, localInitArgs, makeTempDir, removeTempDir, runCli, type CliResult } from './helpers/cli-run.js';

/**
 * Every command's error paths, run as a user runs them: each case must fail with exit 1 or 2,
 * an `error:` line on stderr, and never a stack frame or "unexpected" (which would mean a bug
 * reached the user). A command without a case here fails the last test, so a new command brings
 * its own.
 */
let root: string;
/** Initialised with the local provider and no servers. */
let project: string;
/** mcp-gateway.yaml that is not valid YAML. */
let broken: string;
/** mcp-gateway.yaml that is a directory. */
let directoryConfig: string;
/** A file where a project directory is expected. */
let fileDir: string;
let nowhere: string;

beforeAll(async () => {
  root = await makeTempDir();
  project = join(root, 'project');
  const init = await runCli(localInitArgs(project));
  expect(init.code, init.stderr).toBe(0);
  broken = join(root, 'broken');
  await mkdir(broken);
  await writeFile(join(broken, 'mcp-gateway.yaml'), 'publicUrl: [\n');
  directoryConfig = join(root, 'directory-config');
  await mkdir(join(directoryConfig, 'mcp-gateway.yaml'), { recursive: true });
  fileDir = join(root, 'a-file');
  await writeFile(fileDir, 'not a directory\n');
  nowhere = join(root, 'nowhere');
}, 30_000);
afterAll(async () => {
  await removeTempDir(root);
});

interface ErrorCase {
  /** The command path as `--help` names it (`clients show`). */
  command: string;
  args: () => string[];
  code: 1 | 2;
  /** What the error line must say. */
  says: RegExp;
}

const CASES: ErrorCase[] = [
  { command: 'init', args: () => ['init', '--dir', nowhere, '--yes', '--public-url', 'mcp.example.com'], code: 2, says: /write https:\/\/mcp\.example\.com/ },
  {
    command: 'init',
    args: () => ['init', '--dir', nowhere, '--yes', '--oidc-issuer', 'accounts.example.com', '--provider', 'oidc'],
    code: 2,
    says: /Not a URL/,
  },
  { command: 'init', args: () => localInitArgs(project), code: 1, says: /already exists/ },
  { command: 'init', args: () => [...localInitArgs(broken), '--force'], code: 1, says: /cannot keep its servers/ },
  { command: 'init', args: () => [...localInitArgs(fileDir), '--force'], code: 2, says: /is a file, not a directory/ },
  { command: 'init', args: () => [...localInitArgs(directoryConfig), '--force'], code: 1, says: /is a directory, not a file/ },
  { command: 'github register', args: () => ['github', 'register', '--dir', project], code: 1, says: /provider\.type is local/ },
  {
    command: 'github register',
    args: () => ['github', 'register', '--dir', project, '--github-url', 'github.example'],
    code: 2,
    says: /write https:\/\/github\.example/,
  },
  { command: 'serve', args: () => ['serve', '--dir', project, '--listen', 'every-interface'], code: 2, says: /not HOST:PORT/ },
  { command: 'serve', args: () => ['serve', '--dir', directoryConfig], code: 1, says: /is a directory, not a file/ },
  { command: 'serve', args: () => ['serve', '--dir', broken], code: 1, says: /not valid YAML/ },
  { command: 'doctor', args: () => ['doctor', '--dir', project, '--timeout', 'soon'], code: 2, says: /not a duration/ },
  { command: 'completion', args: () => ['completion', 'powershell'], code: 2, says: /powershell/ },
  { command: 'add-server', args: () => ['add-server', 'Bad Name', '--dir', project], code: 2, says: /invalid server name/ },
  { command: 'add-server', args: () => ['add-server', 'nosuch', '--dir', project], code: 1, says: /not in the catalog/ },
  {
    command: 'add-server',
    args: () => ['add-server', 'docs', '--dir', project, '--url', 'docs.example.net/mcp'],
    code: 2,
    says: /write https:\/\/docs\.example\.net\/mcp/,
  },
  { command: 'add-server', args: () => ['add-server', 'docs', '--dir', project, '--url', 'http://docs.example.net/mcp'], code: 2, says: /must use https/ },
  { command: 'add-server', args: () => ['add-server', 'x', '--dir', project, '--command', 'a > out.txt'], code: 2, says: /./ },
  { command: 'add-server', args: () => ['add-server', 'time', '--dir', directoryConfig], code: 1, says: /mcp-gateway\.yaml/ },
  { command: 'remove-server', args: () => ['remove-server', 'nosuch', '--dir', project], code: 1, says: /no server named nosuch/ },
  { command: 'list', args: () => ['list', '--dir', broken], code: 1, says: /not valid YAML/ },
  { command: 'access check', args: () => ['access', 'check', '--dir', broken, '--user', 'a', '--server', 's', '--tool', 't'], code: 1, says: /not valid YAML/ },
  { command: 'access check', args: () => ['access', 'check', '--dir', project, '--server', 's', '--tool', 't'], code: 2, says: /--user/ },
  { command: 'add-server', args: () => ['add-server', 'team', '--dir', project, '--aggregate', ','], code: 2, says: /needs member servers/ },
  { command: 'list', args: () => ['list', '--dir', fileDir], code: 1, says: /is not a directory/ },
  { command: 'render', args: () => ['render', '--dir', nowhere], code: 1, says: /no gateway config/ },
  { command: 'up', args: () => ['up', '--dir', nowhere], code: 1, says: /no gateway config/ },
  { command: 'down', args: () => ['down', '--dir', nowhere], code: 1, says: /no gateway config/ },
  { command: 'logs', args: () => ['logs', '--dir', nowhere], code: 1, says: /no gateway config/ },
  { command: 'status', args: () => ['status', '--dir', broken], code: 1, says: /not valid YAML/ },
  { command: 'reload', args: () => ['reload', '--dir', project], code: 1, says: /./ },
  { command: 'smoke', args: () => ['smoke', '--dir', project], code: 2, says: /no servers configured/ },
  { command: 'smoke', args: () => ['smoke', '--dir', project, '--url', '127.0.0.1:8080'], code: 2, says: /write http:\/\/127\.0\.0\.1:8080/ },
  { command: 'images build', args: () => ['images', 'build', '--dir', broken], code: 1, says: /not valid YAML/ },
  { command: 'keys rotate', args: () => ['keys', 'rotate', '--dir', nowhere], code: 1, says: /./ },
  { command: 'clients list', args: () => ['clients', 'list', '--dir', project, '--url', 'gateway.example'], code: 2, says: /write https:\/\/gateway\.example/ },
  { command: 'clients show', args: () => ['clients', 'show', 'some-client', '--dir', nowhere], code: 1, says: /no gateway config/ },
  { command: 'clients remove', args: () => ['clients', 'remove', 'some-client', '--dir', broken], code: 1, says: /not valid YAML/ },
  { command: 'clients prune', args: () => ['clients', 'prune', '--dir', nowhere], code: 1, says: /./ },
  { command: 'tokens list', args: () => ['tokens', 'list', '--dir', nowhere], code: 1, says: /./ },
  { command: 'tokens revoke', args: () => ['tokens', 'revoke', '--dir', project], code: 2, says: /./ },
  { command: 'connections list', args: () => ['connections', 'list', '--dir', nowhere], code: 1, says: /no gateway config/ },
  { command: 'connections revoke', args: () => ['connections', 'revoke', '--dir', project], code: 2, says: /needs --user/ },
  {
    command: 'token issue',
    args: () => ['token', 'issue', '--dir', project, '--user', 'alice', '--server', 'time', '--ttl', 'forever'],
    code: 2,
    says: /not a duration/,
  },
  {
    command: 'token issue',
    args: () => ['token', 'issue', '--dir', project, '--user', 'alice', '--server', 'nosuch'],
    code: 1,
    says: /no server named nosuch/,
  },
  { command: 'runtime auth', args: () => ['runtime', 'auth'], code: 1, says: /./ },
  { command: 'runtime bridge', args: () => ['runtime', 'bridge', 'nosuch'], code: 1, says: /./ },
  { command: 'runtime router', args: () => ['runtime', 'router'], code: 1, says: /./ },
  { command: 'runtime relay', args: () => ['runtime', 'relay'], code: 1, says: /./ },
  { command: 'runtime healthcheck', args: () => ['runtime', 'healthcheck', 'not a url'], code: 2, says: /is not a URL/ },
];

/** The container entrypoints read their settings from the environment; none is set here. */
const RUNTIME_ENV = { MCPGW_CONFIG: '', MCPGW_LISTEN: '', MCPGW_SECRETS_DIR: join('/nonexistent', 'secrets') };

function expectCleanFailure(result: CliResult, { code, says }: ErrorCase): void {
  const label = `exit ${result.code}\nstderr: ${result.stderr}\nstdout: ${result.stdout}`;
  expect(result.code, label).toBe(code);
  expect(result.stderr, label).toMatch(/^error: /m);
  expect(result.stderr.match(/^error: .*$/m)?.[0], label).toMatch(says);
  expect(result.stderr, label).not.toMatch(STACK_FRAME);
  expect(result.stderr, label).not.toMatch(/unexpected|looks like a bug/i);
}

describe('every error path of the CLI', () => {
  it.each(CASES.map((c) => [`${c.command}: ${c.args().slice(0, 3).join(' ')}…`, c] as const))('%s fails cleanly', async (_, c) => {
    expectCleanFailure(await runCli(c.args(), { env: RUNTIME_ENV }), c);
  });

  it('prints the same failures as one JSON document on stdout under --json, for every command that has it', async () => {
    const withJson = new Set(
      leafCommands()
        .filter(({ command }) => command.options.some((option) => option.long === '--json'))
        .map(({ path }) => path),
    );
    expect(withJson).toContain('init');
    for (const c of CASES.filter((entry) => withJson.has(entry.command))) {
      const result = await runCli([...c.args(), '--json'], { env: RUNTIME_ENV });
      const label = `${c.args().join(' ')} --json\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
      expect(result.code, label).toBe(c.code);
      const document = JSON.parse(result.stdout) as { error: { code: string; message: string } };
      expect(document.error.code, label).toMatch(/^ERR_[A-Z_]+$/);
      expect(document.error.code, label).not.toBe('ERR_UNEXPECTED');
      expect(document.error.message, label).not.toMatch(STACK_FRAME);
    }
  }, 120_000);

  it('has a case for every command', () => {
    const covered = new Set(CASES.map((c) => c.command));
    expect(
      leafCommands()
        .map(({ path }) => path)
        .filter((path) => !covered.has(path)),
    ).toEqual([]);
  });
});

/** Every command that runs something (`clients show`, not `clients`), with its path as typed. */
function leafCommands(): Array<{ path: string; command: Command }> {
  const leaves: Array<{ path: string; command: Command }> = [];
  const walk = (command: Command, path: string[]): void => {
    if (command.commands.length === 0) leaves.push({ path: path.join(' '), command });
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(buildProgram(), []);
  return leaves;
}
