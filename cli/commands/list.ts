import { Option } from 'commander';
import type * as action from '../actions/list.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway list`: the configured servers and their endpoints. */
export const runList: typeof action.runList = async (...args) => (await import('../actions/list.js')).runList(...args);

export const listCommand = defineCommand({
  name: 'list',
  group: 'Servers',
  description: 'List the configured servers with their endpoint URLs and commands',
  options: [
    dirOption(),
    new Option('--json', 'print one JSON document { publicUrl, servers: [{ name, endpoint, command, args, description, url? }] } and nothing else'),
  ],
  examples: ['mcp-gateway list', 'mcp-gateway list --json | jq -r ".servers[].endpoint"'],
  action: (_, flags: Flags<action.ListOptions>, { output }) => runList({ dir: projectDir(flags), json: flags.json ?? false }, { output }),
});
