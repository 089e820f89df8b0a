import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GatewayError } from '../runtime/errors.js';
import { runAddServer } from '../cli/commands/add-server.js';
import { runInit } from '../cli/commands/init.js';
import { runRemoveServer } from '../cli/commands/remove-server.js';
import { formatCommandLine, parseCommandLine } from '../cli/command-line.js';
import type { CliOutput } from '../cli/output.js';
import type { Prompter } from '../cli/prompter.js';
import { reportError } from '../cli/run-cli.js';
import { makeTempDir, removeTempDir } from './helpers/cli-run.js';

// The command modules driven in-process through their deps, to assert on error codes and on
// the interactive path, which a child process without a TTY cannot reach.

function captureOutput(): CliOutput & { out: string; err: string } {
  const captured = {
    out: '',
    err: '',
    stdout: (text: string) => void (captured.out += text),
    stderr: (text: string) => void (captured.err += text),
  };
  return captured;
}

/** Answers questions from a script keyed by a word of the question, and records what was asked. */
function scriptedPrompter(answers: Record<string, string>): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const answer = (message: string): string => {
    asked.push(message);
    const key = Object.keys(answers).find((k) => message.includes(k));
    if (key === undefined) throw new Error(`unexpected question: ${message}`);
    return answers[key]!;
  };
  return {
    asked,
    input: async ({ message, validate }) => {
      const value = answer(message);
      const verdict = validate?.(value) ?? true;
      if (verdict !== true) throw new Error(`the prompt refused ${value}: ${verdict}`);
      return value;
    },
    password: async ({ message }) => answer(message),
    select: async <T extends string>({ message }: { message: string }) => answer(message) as T,
  };
}

describe('runInit', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  it('asks for each missing value in a terminal, and never prints the client secret', async () => {
    const prompter = scriptedPrompter({
      'Public URL': 'https://mcp.example.com',
      'log in': 'github',
      credentials: 'enter',
      'client ID': 'Iv1.abc',
      'client secret': 's3cr3t-value',
      logins: 'alice,bob',
    });
    const output = captureOutput();
    await runInit({ dir }, { output, interactive: true, prompter });

    expect(prompter.asked).toHaveLength(6);
    const config = parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ publicUrl: 'https://mcp.example.com', provider: { type: 'github', clientId: 'Iv1.abc' }, allowedUsers: ['alice', 'bob'] });
    expect(output.out + output.err).not.toContain('s3cr3t-value');
  });

  it('creates the GitHub App right after writing the config when the person chooses to register now', async () => {
    const prompter = scriptedPrompter({ 'Public URL': 'https://mcp.example.com', 'log in': 'github', credentials: 'register-now', logins: 'alice' });
    const registered: Array<{ dir: string; config: Record<string, unknown> }> = [];
    const registerGitHubApp = async (projectDir: string): Promise<void> => {
      registered.push({ dir: projectDir, config: parse(await readFile(join(projectDir, 'mcp-gateway.yaml'), 'utf8')) as Record<string, unknown> });
    };
    const output = captureOutput();
    await runInit({ dir }, { output, interactive: true, prompter, registerGitHubApp });

    expect(prompter.asked.some((q) => q.includes('client ID') || q.includes('client secret'))).toBe(false);
    expect(registered).toHaveLength(1);
    expect(registered[0]!.dir).toBe(dir);
    expect(registered[0]!.config['provider']).not.toHaveProperty('clientId');
  });

  it('asks no client credentials when the person registers later, and names github register', async () => {
    const prompter = scriptedPrompter({ 'Public URL': 'https://mcp.example.com', 'log in': 'github', credentials: 'register-later', logins: 'alice' });
    const output = captureOutput();
    let registered = false;
    await runInit({ dir }, { output, interactive: true, prompter, registerGitHubApp: async () => void (registered = true) });
    expect(registered).toBe(false);
    expect(prompter.asked).toHaveLength(4);
    expect(output.out).toContain('mcp-gateway github register');
    expect(await readdir(join(dir, '.secrets'))).toEqual(['signing-keys.json']);
  });

  it('asks nothing under --yes even in a terminal', async () => {
    const prompter = scriptedPrompter({});
    await expect(
      runInit({ dir, yes: true, provider: 'local', allowedUsers: ['alice'] }, { output: captureOutput(), interactive: true, prompter }),
    ).rejects.toMatchObject({
      code: 'ERR_USAGE',
    });
    expect(prompter.asked).toEqual([]);
    expect(await readdir(dir)).toEqual([]);
  });

  it('rejects an existing project with ERR_CONFIG_EXISTS before asking anything', async () => {
    const options = { dir, yes: true, provider: 'local' as const, publicUrl: 'http://127.0.0.1:8080', allowedUsers: ['alice'] };
    await runInit(options, { output: captureOutput() });
    const prompter = scriptedPrompter({});
    await expect(runInit({ ...options, yes: false }, { output: captureOutput(), interactive: true, prompter })).rejects.toMatchObject({
      code: 'ERR_CONFIG_EXISTS',
    });
    expect(prompter.asked).toEqual([]);
  });
});

describe('runAddServer and runRemoveServer', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await makeTempDir();
    await runInit({ dir, yes: true, provider: 'local', publicUrl: 'https://mcp.example.com', allowedUsers: ['alice'] }, { output: captureOutput() });
  });
  afterEach(async () => {
    await removeTempDir(dir);
  });

  const quiet = () => ({ output: captureOutput(), commandExists: async () => true });

  it('reports ERR_SERVER_UNKNOWN for a name outside the catalog without --command', async () => {
    await expect(runAddServer({ dir, name: 'weather' }, quiet())).rejects.toMatchObject({ code: 'ERR_SERVER_UNKNOWN' });
  });

  it('reports ERR_SERVER_EXISTS for a duplicate name', async () => {
    await runAddServer({ dir, name: 'memory' }, quiet());
    await expect(runAddServer({ dir, name: 'memory' }, quiet())).rejects.toMatchObject({ code: 'ERR_SERVER_EXISTS' });
  });

  it('keeps the memory server data with the project instead of in the npx cache', async () => {
    await runAddServer({ dir, name: 'memory' }, quiet());
    const config = parse(await readFile(join(dir, 'mcp-gateway.yaml'), 'utf8')) as { servers: Record<string, { env: Record<string, string> }> };
    // In its own data directory: the only place its sandbox may write, and a named volume in Docker.
    expect(config.servers['memory']?.env['MEMORY_FILE_PATH']).toBe(join(dir, '.mcp-gateway', 'servers', 'memory', 'memory.jsonl'));
  });

  it('warns on stderr when the command is not on PATH, but still adds the server', async () => {
    const output = captureOutput();
    // A serve project (plain HTTP here); a Docker one runs the server in an image and gets no such warning (cli-results.test.ts).
    await runInit({ dir, yes: true, force: true, provider: 'local', publicUrl: 'http://127.0.0.1:8080', allowedUsers: ['alice'] }, { output: captureOutput() });
    await runAddServer({ dir, name: 'time' }, { output, commandExists: async () => false });
    expect(output.err).toMatch(/^warning: uvx is not on PATH/);
  });

  it('reports ERR_SERVER_UNKNOWN when removing a name that is not configured', async () => {
    await expect(runRemoveServer({ dir, name: 'time' }, { output: captureOutput() })).rejects.toMatchObject({ code: 'ERR_SERVER_UNKNOWN' });
  });
});

describe('parseCommandLine', () => {
  it('splits quoted words and round-trips through formatCommandLine', () => {
    const parsed = parseCommandLine(`npx -y @scope/server "/a b" 'it''s'`);
    expect(parsed).toEqual({ command: 'npx', args: ['-y', '@scope/server', '/a b', 'its'] });
    expect(parseCommandLine(formatCommandLine(parsed.command, parsed.args))).toEqual(parsed);
    expect(formatCommandLine('node', ["it's here"])).toBe(`node 'it'\\''s here'`);
  });

  it.each(['a > out.txt', 'a && b', 'a *.json', 'a ${TOKEN}', 'a # note', '   '])('refuses %j with ERR_USAGE', (line) => {
    expect(() => parseCommandLine(line)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });
});

describe('reportError', () => {
  const report = (err: unknown, debug = false) => {
    let stderr = '';
    const code = reportError(err, { stderr: (t) => void (stderr += t), debug });
    return { code, stderr };
  };

  it('maps ERR_USAGE to exit 2 and other GatewayErrors to exit 1, with message and hint', () => {
    expect(report(new GatewayError('ERR_USAGE', 'bad flag', { hint: 'fix it' }))).toEqual({ code: 2, stderr: 'error: bad flag\nhint: fix it\n' });
    expect(report(new GatewayError('ERR_SERVER_EXISTS', 'taken')).code).toBe(1);
  });

  it('prints an unexpected error without its stack unless MCP_GATEWAY_DEBUG is set', () => {
    const plain = report(new Error('boom'));
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/^error: unexpected: boom\n/);
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    expect(report(new Error('boom'), true).stderr).toMatch(/\n\s+at /);
  });

  it('under --json prints one error document on stdout, and none after a report the command already printed', () => {
    const withJson = (err: unknown) => {
      let stdout = '';
      const code = reportError(err, { stderr: () => {}, debug: false, json: { stdout: (t) => void (stdout += t) } });
      return { code, stdout };
    };
    const plain = withJson(new GatewayError('ERR_SERVER_UNKNOWN', 'no server "x"', { hint: 'list them' }));
    expect(plain.code).toBe(1);
    expect(JSON.parse(plain.stdout)).toEqual({ error: { code: 'ERR_SERVER_UNKNOWN', message: 'no server "x"', hint: 'list them' } });
    const afterReport = withJson(new GatewayError('ERR_UNHEALTHY', '1 of 3 checks failed', { reported: true }));
    expect(afterReport).toEqual({ code: 1, stdout: '' });
  });
});
