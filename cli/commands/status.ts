import { Option } from 'commander';
import type * as action from '../actions/status.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway status`: the Docker deployment's containers, or the `serve` running an embedded project. */
export const runStatus: typeof action.runStatus = async (...args) => (await import('../actions/status.js')).runStatus(...args);

export const statusCommand = defineCommand({
  name: 'status',
  group: 'Operate',
  description: 'Show what runs the project: the Docker containers (state, health, ports), or the running serve (pid, listen address, health, servers)',
  options: [
    dirOption(),
    new Option(
      '--json',
      'print one JSON document: { mode: "docker", project, services: [{ service, server, container, state, health, ports, image, status }] } or { mode: "embedded", listen, publicUrl, gateway: { pid, health, ... } | null, servers: [...] }',
    ),
  ],
  notes: `A Docker project (a rendered deploy/, which \`up\` writes, or deploy.email / deploy.project set) shows its
containers; any other project shows the \`mcp-gateway serve\` that holds its store's gateway lock, and
asks its /health at the configured listen address, then at the public URL. Without a running serve it
says so and exits 0, as it does for a deployment without containers.`,
  examples: [
    'mcp-gateway status --dir ./gw',
    'mcp-gateway status --json | jq -r ".services[] | select(.health != \\"healthy\\") | .service"',
    'mcp-gateway status --json | jq ".gateway.pid"',
  ],
  action: (_, flags: Flags<action.StatusOptions>, { output }) => runStatus({ dir: projectDir(flags), json: flags.json === true }, { output }),
});
