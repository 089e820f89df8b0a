import { resolve } from 'node:path';
import { Option } from 'commander';
import type * as action from '../actions/render.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';
import { imageOptions } from './images.js';
import { targetOption } from '../deploy/deploy-target.js';

/** `mcp-gateway render`: the Docker deploy folder, written from the project's config and secrets. */
export const runRender: typeof action.runRender = async (...args) => (await import('../actions/render.js')).runRender(...args);

export const renderCommand = defineCommand({
  name: 'render',
  group: 'Deploy',
  description: 'Write the Docker deploy folder (compose.yaml, Traefik config, runtime images, secrets) without starting anything',
  options: [
    dirOption(),
    new Option('--out <dir>', 'the deploy folder, replaced as a whole (default: <dir>/deploy)'),
    targetOption(),
    ...imageOptions(),
    new Option('--json', 'print one JSON document { project, deployFolder, files, images, reusedApp } and nothing else on stdout'),
  ],
  notes: `\`docker compose up -d\` in the deploy folder starts the deployment without this CLI. Secrets go to
secrets/<service>.env (mode 0600), never into compose.yaml or the images. The generated compose.yaml needs
Docker Compose v2 (\`docker compose\`, not the old \`docker-compose\` 1.x).`,
  examples: [
    'mcp-gateway render --dir ./gw',
    'cd ./gw/deploy && docker compose up -d',
    'mcp-gateway render --dir ./gw --node-image registry.example.com/node:20',
  ],
  action: (_, flags: Flags<action.RenderOptions>, { output }) =>
    runRender({ ...flags, dir: projectDir(flags), ...(flags.out === undefined ? {} : { out: resolve(flags.out) }) }, { output }),
});
