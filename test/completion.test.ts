import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completionModel } from '../cli/completion/completion-model.js';
import { buildProgram } from '../cli/main.js';
import { makeTempDir, removeTempDir } from './helpers/cli-run.js';

/** Runs `mcp-gateway ...args` in this process; resolves to what it printed on stdout. */
async function cli(...args: string[]): Promise<string> {
  let stdout = '';
  const program = buildProgram({ stdout: (text) => void (stdout += text), stderr: () => undefined });
  await program.parseAsync(['node', 'mcp-gateway', ...args]);
  return stdout;
}

function has(shell: string): boolean {
  return spawnSync(shell, ['-c', 'exit 0'], { stdio: 'ignore' }).status === 0;
}

function run(shell: string, args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(shell, args, { encoding: 'utf8', ...(input === undefined ? {} : { input }), timeout: 10_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
const scripts: Record<'bash' | 'zsh' | 'fish', string> = { bash: '', zsh: '', fish: '' };
const files: Record<'bash' | 'zsh' | 'fish', string> = { bash: '', zsh: '', fish: '' };
beforeAll(async () => {
  dir = await makeTempDir('mcpgw-completion-');
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    scripts[shell] = await cli('completion', shell);
    files[shell] = join(dir, `completion.${shell}`);
    await writeFile(files[shell], scripts[shell]);
  }
});
afterAll(async () => {
  await removeTempDir(dir);
});

describe('the completion model', () => {
  it('has every visible command with its options and choices, and leaves hidden ones out', () => {
    const model = completionModel(buildProgram());
    const names = model.subcommands.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['init', 'add-server', 'serve', 'token', 'doctor', 'completion', 'help']));
    expect(names).not.toContain('runtime');
    const init = model.subcommands.find((c) => c.name === 'init')!;
    expect(init.options.find((o) => o.flags.includes('--provider'))?.values).toEqual({ kind: 'words', words: ['github', 'oidc', 'local'] });
    expect(init.options.find((o) => o.flags.includes('--dir'))?.values).toEqual({ kind: 'directories' });
    const completion = model.subcommands.find((c) => c.name === 'completion')!;
    expect(completion.options.flatMap((o) => o.flags)).not.toContain('--servers');
    for (const script of [scripts.bash, scripts.zsh]) expect(script).not.toMatch(/^ {4}'runtime/m);
    expect(scripts.fish).not.toMatch(/-a 'runtime'|case 'runtime/);
  });
});

describe('mcp-gateway completion', () => {
  it('refuses to run without a shell, and with an unknown one', async () => {
    await expect(cli('completion')).rejects.toMatchObject({ code: 'ERR_USAGE' });
    await expect(cli('completion', 'powershell')).rejects.toMatchObject({ code: 'commander.invalidArgument' });
  });

  it('--servers prints the configured server names of --dir, and nothing without a project', async () => {
    const project = await makeTempDir('mcpgw-completion-project-');
    try {
      await writeFile(
        join(project, 'mcp-gateway.yaml'),
        'publicUrl: http://127.0.0.1:8080\nprovider: { type: local, user: alice }\nallowedUsers: [alice]\nservers:\n  time: { command: uvx, args: [mcp-server-time] }\n  echo: { command: node }\n',
      );
      expect(await cli('completion', '--servers', '--dir', project)).toBe('echo\ntime\n');
      expect(await cli('completion', '--servers', '--dir', join(project, 'missing'))).toBe('');
    } finally {
      await removeTempDir(project);
    }
  });
});

describe('the bash script', () => {
  /** Sources the script in a bash subprocess and completes `words` (the last one is the word at the cursor). */
  function complete(words: string[], prelude = ''): string[] {
    const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const program = `source '${files.bash}'
${prelude}
complete -p mcp-gateway
COMP_WORDS=(${quoted}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
_mcp_gateway 2>/dev/null
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = run('bash', ['--norc', '--noprofile', '-c', program]);
    expect(result.stderr).toBe('');
    const [registration = '', ...replies] = result.stdout.split('\n').filter(Boolean);
    expect(registration).toBe('complete -F _mcp_gateway mcp-gateway');
    return replies;
  }

  it('is valid bash', () => {
    const result = run('bash', ['-n', files.bash]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('completes `mcp-gateway add-` to add-server', () => {
    expect(complete(['mcp-gateway', 'add-'])).toEqual(['add-server']);
  });

  it('completes subcommands, options, option choices and catalog names', () => {
    expect(complete(['mcp-gateway', 'token', ''])).toEqual(['issue', 'help']);
    expect(complete(['mcp-gateway', 'token', 'issue', '--s'])).toEqual(['--server']);
    expect(complete(['mcp-gateway', 'init', '--dir', '.', '--provider', ''])).toEqual(['github', 'oidc', 'local']);
    expect(complete(['mcp-gateway', 'add-server', 'ti'])).toEqual(['time']);
    expect(complete(['mcp-gateway', 'completion', 'z'])).toEqual(['zsh']);
  });

  it('completes server names from the project named by --dir', () => {
    // The script asks the program itself; a stand-in answers for the project it is given.
    const stub = `mcp-gateway() { [[ "$*" == 'completion --servers --dir /srv/gw' ]] && printf 'docs\\necho\\ntime\\n'; }`;
    expect(complete(['mcp-gateway', 'remove-server', '--dir', '/srv/gw', 't'], stub)).toEqual(['time']);
    expect(complete(['mcp-gateway', 'token', 'issue', '--dir', '/srv/gw', '--server', ''], stub)).toEqual(['docs', 'echo', 'time']);
  });
});

describe('the zsh script', () => {
  const zsh = has('zsh');
  if (!zsh) console.warn('skipping the zsh completion checks: zsh is not installed (apt-get install -y zsh)');

  it.skipIf(!zsh)('is valid zsh', () => {
    const result = run('zsh', ['-n', files.zsh]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.skipIf(!zsh)('offers add-server for `mcp-gateway add-` and the provider choices after --provider', () => {
    // compsys functions replaced by ones that print what they were given.
    const program = `compdef() { :; }
source '${files.zsh}'
_describe() { local -a entries; entries=("\${(@P)\${@[-1]}}"); print -rl -- "\${(@)entries%%:*}"; }
compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }
words=(mcp-gateway add-); CURRENT=2; _mcp_gateway
print -- ---
words=(mcp-gateway init --provider ''); CURRENT=4; _mcp_gateway`;
    const result = run('zsh', ['-f', '-c', program]);
    expect(result.stderr).toBe('');
    const [commands = '', choices = ''] = result.stdout.split('---\n');
    expect(commands.split('\n')).toContain('add-server');
    expect(choices.trim().split('\n')).toEqual(['github', 'oidc', 'local']);
  });
});

describe('the fish script', () => {
  const fish = has('fish');
  if (!fish) console.warn('skipping the fish completion checks: fish is not installed (apt-get install -y fish)');

  it.skipIf(!fish)('is valid fish', () => {
    const result = run('fish', ['--no-execute', files.fish]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it.skipIf(!fish)('completes `mcp-gateway add-` to add-server and the provider choices', () => {
    const program = `source '${files.fish}'
complete -C'mcp-gateway add-'
echo ---
complete -C'mcp-gateway init --provider '`;
    const result = run('fish', ['--no-config', '-c', program]);
    expect(result.stderr).toBe('');
    const [commands = '', choices = ''] = result.stdout.split('---\n');
    expect(commands.split('\n').map((line) => line.split('\t')[0])).toContain('add-server');
    expect(
      choices
        .trim()
        .split('\n')
        .map((line) => line.split('\t')[0])
        .sort(),
    ).toEqual(['github', 'local', 'oidc']);
  });
});
