import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { HELP_GROUPS } from '../cli/command-spec.js';
import { buildProgram } from '../cli/main.js';
import { PACKAGE_ROOT } from './helpers/cli-run.js';

/** What `mcp-gateway ...args --help` prints, run in this process. */
async function helpOf(...args: string[]): Promise<string> {
  let stdout = '';
  const program = buildProgram({ stdout: (text) => void (stdout += text), stderr: () => undefined });
  await expect(program.parseAsync(['node', 'mcp-gateway', ...args, '--help'])).rejects.toMatchObject({ code: 'commander.helpDisplayed' });
  return stdout;
}

/** Every command a user can run, by its words: ['init'], ['token', 'issue'], ... */
function leafCommands(command: Command, path: string[] = []): string[][] {
  const visible = command
    .createHelp()
    .visibleCommands(command)
    .filter((sub) => command.commands.includes(sub));
  if (visible.length === 0) return [path];
  return visible.flatMap((sub) => leafCommands(sub, [...path, sub.name()]));
}

/** The files `entry` loads before any of its code runs: its static imports, followed through the package's own files. */
function staticImports(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const match of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^'"]*?from\s+'([^']+)'|^import\s+'([^']+)'/gm)) {
      const specifier = match[1] ?? match[2] ?? '';
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier));
      else packages.add(specifier);
    }
  };
  visit(entry);
  return { files: [...files].map((file) => relative(PACKAGE_ROOT, file)), packages: [...packages] };
}

describe('mcp-gateway --help', () => {
  it('lists every command under the headings Getting started, Servers, Deploy, Operate and Admin, in that order', async () => {
    const help = await helpOf();
    const headings = [...help.matchAll(/^(\S[^\n]*):$/gm)].map((match) => match[1]);
    expect(headings).toEqual(['Options', ...HELP_GROUPS, 'Quick start']);
    const listed = help.slice(help.indexOf(`${HELP_GROUPS[0]}:`), help.indexOf('Quick start:'));
    for (const command of buildProgram().commands.filter((c) => c.name() !== 'runtime')) expect(listed).toMatch(new RegExp(`^  ${command.name()}\\b`, 'm'));
    expect(listed).toMatch(/^ {2}help \[command\]/m);
    expect(listed).not.toMatch(/^ {2}runtime\b/m);
  });

  it("keeps examples in every command's own --help (completion shows how to install instead)", async () => {
    const commands = leafCommands(buildProgram());
    expect(commands).toContainEqual(['token', 'issue']);
    for (const words of commands) {
      const help = await helpOf(...words);
      expect(help, words.join(' ')).toContain(words.join(' ') === 'completion' ? 'Install (then open a new shell):' : '\nExamples:\n  ');
    }
  });

  it("loads no command's work to print help: the declarations import commander, not the config loader, Docker or the servers", () => {
    const { files, packages } = staticImports(join(PACKAGE_ROOT, 'dist/cli/main.js'));
    expect(files).toContain(join('dist', 'cli', 'commands', 'up.js'));
    expect(files.filter((file) => file.startsWith(join('dist', 'cli', 'actions')))).toEqual([]);
    for (const heavy of ['zod', 'yaml', 'express', 'dockerode', 'ink', 'jose', '@modelcontextprotocol/sdk', '@inquirer/prompts'])
      expect(packages).not.toContain(heavy);
  });
});
