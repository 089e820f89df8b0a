import { Option } from 'commander';
import type * as action from '../actions/down.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { targetOption, UP_TARGETS } from '../deploy/deploy-target.js';

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
    new Option(
      '--json',
      'print one JSON document { project, removed: { containers, networks, volumes }, keptVolumes } (with --target swarm: removed: { services, networks, secrets, configs, volumes })',
    ),
    targetOption(UP_TARGETS),
  ],
  notes: `Without --target, the target the deploy folder was last rendered for (deploy/stack.yaml: swarm), else compose.
On a swarm it removes the project's services, then its networks, configs and secrets (by label); --volumes
removes its volumes on this node.`,
  examples: ['mcp-gateway down --dir ./gw', 'mcp-gateway down --volumes', 'mcp-gateway down --target swarm --dir ./gw'],
  action: (_, flags: Flags<action.DownOptions>, { output }) =>
    runDown(
      { dir: projectDir(flags), volumes: flags.volumes === true, json: flags.json === true, ...(flags.target === undefined ? {} : { target: flags.target }) },
      { output },
    ),
});
