import type { Argument, Command, Option } from 'commander';
import type { CliOutput } from './output.js';

/**
 * The seam between a command and the program: each cli/commands/X.ts exports a `CommandSpec`
 * (its flags, help and examples, and an action that calls its `run`), cli/main.ts turns the specs
 * into commander commands. A command file imports only commander and types at top level: its
 * `run` dynamic-imports the work (cli/actions/X.ts), so `--help` loads no config schema, Docker
 * client or HTTP server.
 */

/** Headings of the top-level `--help`, in the order they are printed. */
export const HELP_GROUPS = ['Getting started', 'Servers', 'Deploy', 'Operate', 'Admin'] as const;
export type HelpGroup = (typeof HELP_GROUPS)[number];

export interface CommandContext {
  output: CliOutput;
  /** The whole program (`completion` reads the command tree from it). */
  program: Command;
}

/**
 * What commander hands an action for a command whose `run` takes `O`: a key is there only when
 * its flag was given or has a default, and `dir` is still as typed (the action resolves it).
 */
export type Flags<O> = Partial<O>;

export interface CommandSpec {
  name: string;
  description: string;
  /** Where the top-level `--help` lists it; top-level commands only. */
  group?: HelpGroup;
  /** Left out of `--help` and the completion scripts. */
  hidden?: boolean;
  /** Shared by every program built from the spec: commander keeps parsed values on the Command, not on these. */
  arguments?: readonly Argument[];
  options?: readonly Option[];
  /** What the flags cannot say, printed after them; a function is called only when help is shown. */
  notes?: string | (() => string);
  /** Command lines printed under `Examples:` in the command's `--help`. */
  examples?: readonly string[];
  subcommands?: readonly CommandSpec[];
  action?: CommandAction;
}

/** commander's positional argument values, then its parsed flags. */
export type CommandAction = (args: readonly unknown[], flags: object, context: CommandContext) => Promise<unknown>;

type TypedSpec<A extends readonly unknown[], F extends object> = Omit<CommandSpec, 'action'> & {
  action?: (args: A, flags: F, context: CommandContext) => Promise<unknown>;
};

/**
 * A spec whose action names the types of its arguments and flags. commander's values are
 * untyped; the `arguments` and `options` declared next to the action are what make them `A`
 * and `F`, so this is the one place they are taken as such.
 */
export function defineCommand<A extends readonly unknown[] = [], F extends object = object>(spec: TypedSpec<A, F>): CommandSpec {
  const { action, ...rest } = spec;
  if (action === undefined) return rest;
  return { ...rest, action: (args, flags, context) => action(args as A, flags as F, context) };
}

/** The text commander prints after a command's options: its notes, then its examples. */
export function helpAfter(spec: CommandSpec): string {
  const notes = typeof spec.notes === 'function' ? spec.notes() : spec.notes;
  const parts = [
    notes === undefined ? undefined : `\n${notes}`,
    spec.examples === undefined ? undefined : `\nExamples:\n${spec.examples.map((line) => `  ${line}`).join('\n')}`,
  ];
  return parts.filter((part) => part !== undefined).join('\n');
}
