import { Argument } from 'commander';
import type * as action from '../actions/remove-server.js';
import { dirOption, jsonOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway remove-server NAME`: the server out of mcp-gateway.yaml, with its stored headers. */
export const runRemoveServer: typeof action.runRemoveServer = async (...args) => (await import('../actions/remove-server.js')).runRemoveServer(...args);

export const removeServerCommand = defineCommand({
  name: 'remove-server',
  group: 'Servers',
  description: 'Remove an MCP server from the gateway config',
  arguments: [new Argument('<name>', 'the configured server name')],
  options: [dirOption(), jsonOption('{ server, removed, endpoint, next }')],
  examples: ['mcp-gateway remove-server time', 'mcp-gateway remove-server fetch --dir ./gw'],
  action: ([name]: [string], flags: Flags<action.RemoveServerOptions>, { output }) =>
    runRemoveServer({ name, dir: projectDir(flags), json: flags.json }, { output }),
});
