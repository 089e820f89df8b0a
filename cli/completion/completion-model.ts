import type { Argument, Command, Option } from 'commander';
import { catalogNames } from '../catalog.js';
import { pathKey } from './quoting.js';

/**
 * What the shell scripts complete, read from the commander program itself, so a command or
 * option added to cli/commands/ is completed without touching this folder. Hidden commands and
 * options (`runtime`, the completion command's own `--servers`) are left out, as in `--help`.
 */

/** Where the values of an option or argument come from. */
export type ValueSource =
  | { kind: 'words'; words: string[] }
  /** Directories (`--dir <path>`, `--out <dir>`). */
  | { kind: 'directories' }
  /** The project's configured server names, asked from `mcp-gateway completion --servers` at completion time. */
  | { kind: 'servers' }
  /** Free text (a URL, a login): the shell offers nothing. */
  | { kind: 'none' };

export interface CompletionOption {
  /** `-y`, `--yes`: every spelling. */
  flags: string[];
  description: string;
  takesValue: boolean;
  values: ValueSource;
}

export interface CompletionArgument {
  name: string;
  description: string;
  variadic: boolean;
  values: ValueSource;
}

export interface CompletionCommand {
  /** Words from the program name to this command: [] for the program, ['token', 'issue'] for `token issue`. */
  path: string[];
  name: string;
  description: string;
  options: CompletionOption[];
  arguments: CompletionArgument[];
  subcommands: CompletionCommand[];
}

/**
 * Arguments whose values are known: by command path and argument name. Everything else about
 * the tree is read from commander; this is the one thing it cannot say.
 */
const ARGUMENT_VALUES: Record<string, () => ValueSource> = {
  'add-server <name>': () => ({ kind: 'words', words: catalogNames() }),
  'remove-server <name>': () => ({ kind: 'servers' }),
  'logs <name>': () => ({ kind: 'servers' }),
};

/** Options whose value is a configured server, in any command. */
const SERVER_OPTIONS = new Set(['--server']);
/** Value placeholders that name a directory (`--dir <path>`, `--out <dir>`). */
const DIRECTORY_PLACEHOLDERS = new Set(['path', 'dir', 'directory']);

export function completionModel(program: Command): CompletionCommand {
  return describeCommand(program, []);
}

function describeCommand(command: Command, path: string[]): CompletionCommand {
  const help = command.createHelp();
  const visible = help.visibleCommands(command);
  const subcommands = visible.map((sub) => describeCommand(sub, [...path, sub.name()]));
  // commander's implicit `help [command]` is a placeholder outside `commands`; its argument is a sibling command.
  const siblings = visible.filter((sub) => command.commands.includes(sub)).map((sub) => sub.name());
  visible.forEach((sub, index) => {
    const described = subcommands[index]!;
    if (!command.commands.includes(sub)) described.arguments = described.arguments.map((arg) => ({ ...arg, values: { kind: 'words', words: siblings } }));
  });
  return {
    path,
    name: path.at(-1) ?? command.name(),
    description: command.description(),
    options: help.visibleOptions(command).map(describeOption),
    arguments: command.registeredArguments.map((arg) => describeArgument(arg, path)),
    subcommands,
  };
}

function describeOption(option: Option): CompletionOption {
  const flags = [option.short, option.long].filter((f): f is string => f !== undefined);
  const takesValue = option.required || option.optional;
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1]?.toLowerCase();
  let values: ValueSource = { kind: 'none' };
  if (option.argChoices !== undefined) values = { kind: 'words', words: [...option.argChoices] };
  else if (option.long !== undefined && SERVER_OPTIONS.has(option.long)) values = { kind: 'servers' };
  else if (placeholder !== undefined && DIRECTORY_PLACEHOLDERS.has(placeholder)) values = { kind: 'directories' };
  return { flags, description: option.description, takesValue, values };
}

function describeArgument(argument: Argument, path: string[]): CompletionArgument {
  const known = ARGUMENT_VALUES[`${path.join(' ')} <${argument.name()}>`];
  const values: ValueSource = argument.argChoices !== undefined ? { kind: 'words', words: [...argument.argChoices] } : (known?.() ?? { kind: 'none' });
  return { name: argument.name(), description: argument.description, variadic: argument.variadic, values };
}

/** Every command of the tree, the program first, parents before children. */
export function allCommands(root: CompletionCommand): CompletionCommand[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}

/** Whether any option or argument of the tree completes server names (the scripts then carry the lookup). */
export function needsServers(root: CompletionCommand): boolean {
  return allCommands(root).some((c) => c.options.some((o) => o.values.kind === 'servers') || c.arguments.some((a) => a.values.kind === 'servers'));
}

/** A place where a value is completed: an option's value (`PATH|--flag`) or a positional argument (`PATH|#INDEX`). */
export interface ValueSlot {
  keys: string[];
  values: ValueSource;
}

/** Every value slot of the tree that has something to offer; the shell scripts turn each into one case. */
export function valueSlots(root: CompletionCommand): ValueSlot[] {
  const slots: ValueSlot[] = [];
  for (const command of allCommands(root)) {
    const at = pathKey(command.path);
    for (const option of command.options) {
      if (option.takesValue && option.values.kind !== 'none') slots.push({ keys: option.flags.map((flag) => `${at}|${flag}`), values: option.values });
    }
    command.arguments.forEach((argument, index) => {
      if (argument.values.kind !== 'none') slots.push({ keys: [`${at}|#${index}`], values: argument.values });
    });
  }
  return slots;
}
