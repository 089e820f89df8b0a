import { Argument, Option } from 'commander';
import type * as action from '../actions/logs.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { targetOption, UP_TARGETS } from '../deploy/deploy-target.js';

/** `mcp-gateway logs [NAME]`: the containers' output, each line prefixed by its service. */
export const runLogs: typeof action.runLogs = async (...args) => (await import('../actions/logs.js')).runLogs(...args);

export const logsCommand = defineCommand({
  name: 'logs',
  group: 'Deploy',
  description: "Show the Docker deployment's logs (JSON lines), each line prefixed by its service",
  arguments: [new Argument('[name]', 'a service (auth, router, redis, bridge-NAME) or a server NAME; all when omitted')],
  options: [
    dirOption(),
    new Option('-f, --follow', 'keep printing new lines until Ctrl+C'),
    new Option('--tail <n>', 'only the last N lines of each container'),
    new Option('--no-prefix', 'print the lines without the "service | " prefix'),
    targetOption(UP_TARGETS),
  ],
  notes: `Without --target, the target the deploy folder was last rendered for (deploy/stack.yaml: swarm), else compose.
On a swarm the lines come from the manager (every task on every node), prefixed service.slot when a service has replicas.`,
  examples: [
    'mcp-gateway logs --dir ./gw',
    'mcp-gateway logs time --follow',
    'mcp-gateway logs auth --tail 50 --no-prefix | jq .msg',
    'mcp-gateway logs router --target swarm --tail 20',
  ],
  action: async ([name]: [string | undefined], flags: Flags<action.LogsOptions>, { output }) => {
    const { untilInterrupted } = await import('../interrupt.js');
    const options = { ...flags, ...(name === undefined ? {} : { name }), dir: projectDir(flags), follow: flags.follow === true };
    await untilInterrupted((signal) => runLogs(options, { output, signal }));
  },
});
