import { resolve } from 'node:path';
import { Option } from 'commander';
import type * as action from '../actions/up.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway up`: render, then create or update the Docker deployment; undone on failure or Ctrl+C. */
export const runUp: typeof action.runUp = async (...args) => (await import('../actions/up.js')).runUp(...args);

export const upCommand = defineCommand({
  name: 'up',
  group: 'Deploy',
  description: 'Render the deploy folder and start (or update) the Docker deployment: Redis, auth, the router, one bridge per server',
  options: [
    dirOption(),
    new Option('--out <dir>', 'the deploy folder (default: <dir>/deploy)'),
    new Option('--base-image <image>', 'base image of the runtime images instead of deploy.nodeImage (any image with node at /usr/local/bin/node)'),
    new Option('--redis-image <image>', 'Redis image instead of deploy.redisImage'),
    new Option('--timeout <duration>', 'how long each service may take to become healthy, e.g. 5m (default: 3m)'),
  ],
  notes: `Idempotent: only containers whose definition changed are recreated, containers of removed servers
are removed, images are built when their tag (which hashes the build context) is missing. If anything
fails, what this run changed is undone and what is still running is listed.`,
  examples: ['mcp-gateway up --dir ./gw', 'mcp-gateway up --base-image my-node:20 --redis-image my-redis:7'],
  action: async (_, flags: Flags<action.UpOptions>, { output }) => {
    const { untilInterrupted } = await import('../interrupt.js');
    const options = { ...flags, dir: projectDir(flags), ...(flags.out === undefined ? {} : { out: resolve(flags.out) }) };
    const interactive = Boolean(process.stdout.isTTY && process.stderr.isTTY);
    await untilInterrupted(
      (signal) => runUp(options, { output, interactive, signal }),
      () => output.stderr('\ninterrupted: undoing what this run changed (Ctrl+C again to quit at once)\n'),
    );
  },
});
