import { Option } from 'commander';
import type * as action from '../actions/down.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway down`: the Docker deployment's containers and network removed; its volumes only with --volumes. */
export const runDown: typeof action.runDown = async (...args) => (await import('../actions/down.js')).runDown(...args);

export const downCommand = defineCommand({
  name: 'down',
  group: 'Deploy',
  description: "Stop and remove the Docker deployment's containers and network (volumes only with --volumes)",
  options: [
    dirOption(),
    new Option(
      '--volumes',
      "also remove the volumes: the Redis data (tokens, registered clients, consents) is lost; servers' data stays in .mcp-gateway/servers/",
    ),
    new Option('--json', 'print one JSON document { project, removed: { containers, networks, volumes }, keptVolumes }'),
  ],
  examples: ['mcp-gateway down --dir ./gw', 'mcp-gateway down --volumes'],
  action: (_, flags: Flags<action.DownOptions>, { output }) =>
    runDown({ dir: projectDir(flags), volumes: flags.volumes === true, json: flags.json === true }, { output }),
});
