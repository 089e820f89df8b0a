import { Option } from 'commander';
import type * as action from '../actions/keys-rotate.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway keys rotate`: a new signing key; the old ones keep verifying until their tokens expire. */
export const runKeysRotate: typeof action.runKeysRotate = async (...args) => (await import('../actions/keys-rotate.js')).runKeysRotate(...args);

export const keysCommand = defineCommand({
  name: 'keys',
  group: 'Operate',
  description: 'Manage the keys that sign access tokens',
  subcommands: [
    defineCommand({
      name: 'rotate',
      description: 'Add a new signing key; the old ones keep verifying until their tokens expire',
      options: [dirOption(), new Option('--json', 'print the result as JSON')],
      notes: `The new key signs from now on (a running serve picks it up on mcp-gateway reload, on restart, or when it first
sees a token signed by it). Keys retired longer ago than the access-token lifetime are removed.`,
      examples: ['mcp-gateway keys rotate --dir ./gw', 'mcp-gateway reload --dir ./gw'],
      action: (_, flags: Flags<action.KeysRotateOptions>, { output }) => runKeysRotate({ ...flags, dir: projectDir(flags) }, output),
    }),
  ],
});
