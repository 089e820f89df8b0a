import { Option } from 'commander';
import type * as action from '../actions/status.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway status`: the Docker deployment's services, their state, health and ports. */
export const runStatus: typeof action.runStatus = async (...args) => (await import('../actions/status.js')).runStatus(...args);

export const statusCommand = defineCommand({
  name: 'status',
  group: 'Deploy',
  description: 'Show the Docker deployment: service, container, state, health, ports',
  options: [
    dirOption(),
    new Option('--json', 'print one JSON document { project, services: [{ service, server, container, state, health, ports, image, status }] }'),
  ],
  examples: ['mcp-gateway status --dir ./gw', 'mcp-gateway status --json | jq -r ".services[] | select(.health != \\"healthy\\") | .service"'],
  action: (_, flags: Flags<action.StatusOptions>, { output }) => runStatus({ dir: projectDir(flags), json: flags.json === true }, { output }),
});
