import { resolve } from 'node:path';
import { Option } from 'commander';
import type * as action from '../actions/render.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway render`: the Docker deploy folder, written from the project's config and secrets. */
export const runRender: typeof action.runRender = async (...args) => (await import('../actions/render.js')).runRender(...args);

export const renderCommand = defineCommand({
  name: 'render',
  group: 'Deploy',
  description: 'Write the Docker deploy folder (compose.yaml, Traefik config, runtime images, secrets) without starting anything',
  options: [
    dirOption(),
    new Option('--out <dir>', 'the deploy folder, replaced as a whole (default: <dir>/deploy)'),
    new Option('--base-image <image>', 'base image of the node runtime image instead of deploy.nodeImage (any image with node at /usr/local/bin/node)'),
  ],
  notes: `\`docker compose up -d\` in the deploy folder starts the deployment without this CLI. Secrets go to
secrets/<service>.env (mode 0600), never into compose.yaml or the images.`,
  examples: [
    'mcp-gateway render --dir ./gw',
    'cd ./gw/deploy && docker compose up -d',
    'mcp-gateway render --dir ./gw --base-image registry.example.com/node:20',
  ],
  action: (_, flags: Flags<action.RenderOptions>, { output }) =>
    runRender({ ...flags, dir: projectDir(flags), ...(flags.out === undefined ? {} : { out: resolve(flags.out) }) }, { output }),
});
