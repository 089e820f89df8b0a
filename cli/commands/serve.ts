import { Option } from 'commander';
import type * as action from '../actions/serve.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway serve`: the whole gateway in this process, until Ctrl+C. */
export const runServe: typeof action.runServe = async (...args) => (await import('../actions/serve.js')).runServe(...args);

export const serveCommand = defineCommand({
  name: 'serve',
  group: 'Getting started',
  description: 'Run the gateway: router, OAuth authorization server and one bridge per MCP server, in one process',
  options: [
    dirOption(),
    new Option('--listen <host:port>', 'address to listen on (overrides listen in mcp-gateway.yaml)'),
    new Option('--demo', 'zero-configuration demo: a built-in demo server, login by a one-time code, loopback only, no GitHub needed'),
  ],
  notes: 'serve needs no Docker and keeps its state in <dir>/.mcp-gateway/. Stop it with Ctrl+C.',
  examples: ['mcp-gateway serve --demo', 'mcp-gateway serve --dir ./gw', 'mcp-gateway serve --listen 0.0.0.0:8080'],
  action: (_, flags: Flags<action.ServeOptions>, { output }) => runServe({ ...flags, dir: projectDir(flags) }, output),
});
