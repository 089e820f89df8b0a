import { resolve } from 'node:path';
import { Option } from 'commander';
import type * as action from '../actions/up.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { imageOptions } from './images.js';
import { targetOption, UP_TARGETS } from '../deploy/deploy-target.js';

/** `mcp-gateway up`: render, then create or update the Docker deployment; undone on failure or Ctrl+C. */
export const runUp: typeof action.runUp = async (...args) => (await import('../actions/up.js')).runUp(...args);

export const upCommand = defineCommand({
  name: 'up',
  group: 'Deploy',
  description: 'Render the deploy folder and start (or update) the Docker deployment: Redis, auth, the router, one bridge per server',
  options: [
    dirOption(),
    new Option('--out <dir>', 'the deploy folder (default: <dir>/deploy)'),
    targetOption(UP_TARGETS),
    ...imageOptions(),
    new Option(
      '--timeout <duration>',
      'how long each service may take to become healthy, e.g. 5m (default: 3m; with --target swarm, how long the whole swarm may take to converge, default 4m)',
    ),
    new Option(
      '--json',
      'print one JSON document { project, deployFolder, images, services: [{ service, container, outcome }], removed, endpoints, health, durationMs }',
    ),
  ],
  notes: `Uses the official images (deploy.nodeImage, pythonImage, redisImage, traefikImage: node:20-bookworm-slim,
python:3.12-slim, redis:7-alpine, traefik:v3.3) unless the flags or the config name others, and prints
which. On a host without a registry, \`mcp-gateway images build\` makes them from the host's programs.
Idempotent: only containers whose definition changed are recreated, containers of removed servers
are removed, images are built when their tag (which hashes the build context) is missing; a second
up with nothing changed takes seconds. A server that cannot start (its command missing, its process
exiting before initialize) fails up at once with the reason; what became healthy (Redis, auth, the
router, the other servers) stays up, and what runs and what failed is listed. Ctrl+C undoes the run.
--target swarm deploys stack.yaml on the swarm this engine manages (\`docker swarm init\` makes one): services,
overlay networks, secrets and configs, rolling updates of what changed; it waits until every service runs its
replicas, healthy (docs/swarm.md).`,
  examples: [
    'mcp-gateway up --dir ./gw',
    'mcp-gateway up --node-image my-node:20 --redis-image my-redis:7',
    'mcp-gateway up --json | jq -r ".endpoints[].url"',
    'mcp-gateway up --target swarm --dir ./gw',
  ],
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
