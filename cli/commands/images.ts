import { Option } from 'commander';
import type * as action from '../actions/images-build.js';
import { dirOption, projectDir } from '../command-options.js';
import { defineCommand, type Flags } from '../command-spec.js';

/** `mcp-gateway images build`: base images made of this host's node, npm, redis-server (and python3 + uv), for hosts without a registry. */
export const runImagesBuild: typeof action.runImagesBuild = async (...args) => (await import('../actions/images-build.js')).runImagesBuild(...args);

/** The flags of `up` and `render` that replace deploy.nodeImage, pythonImage, redisImage and traefikImage for one run. */
export function imageOptions(): Option[] {
  return [
    new Option('--node-image <image>', 'base of the node runtime image instead of deploy.nodeImage (any image with node at /usr/local/bin/node)'),
    new Option('--python-image <image>', 'base of the python runtime image instead of deploy.pythonImage (python3 with uv, or pip to install it)'),
    new Option('--redis-image <image>', 'Redis image instead of deploy.redisImage'),
    new Option('--traefik-image <image>', 'Traefik image instead of deploy.traefikImage'),
    // The former name of --node-image.
    new Option('--base-image <image>', 'the same as --node-image').hideHelp(),
  ];
}

export const imagesCommand = defineCommand({
  name: 'images',
  group: 'Deploy',
  description: 'Base images for the Docker deployment on hosts that reach no registry',
  subcommands: [
    defineCommand({
      name: 'build',
      description: "Build the node, Redis (and, when a server needs it, python) base images from this host's own programs",
      options: [dirOption(), new Option('--json', 'print one JSON document { images: [{ kind, tag, built } | { kind, skipped }], upFlags, config }')],
      notes: `By default \`up\` uses the official images (node:20-bookworm-slim, python:3.12-slim, redis:7-alpine,
traefik:v3.3), which a host without a registry cannot pull. This builds FROM scratch images holding this
host's node with npm and npx and a shell, redis-server, and python3 with uv and uvx (only when a
configured server runs with uvx, uv, python or pip), each with the libraries ldd lists. Tags hash the
content: a second run builds nothing. Traefik is built only from a traefik binary on PATH; without one,
use deploy.router: builtin. Prints the \`up\` flags and the deploy.* settings that use the images.`,
      examples: [
        'mcp-gateway images build --dir ./gw',
        'mcp-gateway up --dir ./gw $(mcp-gateway images build --dir ./gw --json | jq -r ".upFlags | join(\\" \\")")',
      ],
      action: (_, flags: Flags<action.ImagesBuildOptions>, { output }) => runImagesBuild({ dir: projectDir(flags), json: flags.json === true }, { output }),
    }),
  ],
});
