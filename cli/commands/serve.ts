import { Option } from 'commander';
import type * as action from '../actions/serve.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { LOG_FORMATS } from '../../runtime/logging/log-format.js';

/** `mcp-gateway serve`: the whole gateway in this process, until Ctrl+C. */
export const runServe: typeof action.runServe = async (...args) => (await import('../actions/serve.js')).runServe(...args);

export const serveCommand = defineCommand({
  name: 'serve',
  group: 'Getting started',
  description: 'Run the gateway: router, OAuth authorization server and one bridge per MCP server, in one process',
  options: [
    dirOption(),
    new Option('--listen <host:port>', 'address to listen on; a port alone is 127.0.0.1:PORT (overrides listen in mcp-gateway.yaml)'),
    new Option('--demo', 'zero-configuration demo: a built-in demo server, login by a one-time code, loopback only, no GitHub needed'),
    new Option(
      '--log-format <format>',
      'logs on stderr as readable lines (pretty) or JSON lines (json); default: pretty in a terminal, json otherwise',
    ).choices(LOG_FORMATS),
  ],
  notes: `serve needs no Docker and keeps its state in <dir>/.mcp-gateway/. Stop it with Ctrl+C.
NO_COLOR=1 turns colour off. In a terminal, SIGHUP (the terminal closing) stops serve like
SIGTERM; without one (systemd, Docker) SIGHUP reloads. SIGUSR2 (mcp-gateway reload) always reloads.`,
  examples: ['mcp-gateway serve --demo', 'mcp-gateway serve --dir ./gw', 'mcp-gateway serve --listen 0.0.0.0:8080', 'mcp-gateway serve --log-format json'],
  action: (_, flags: Flags<action.ServeOptions>, { output }) => runServe({ ...flags, dir: projectDir(flags) }, { output }),
});
