import type { GatewayConfig } from '../../runtime/config/schema.js';
import { checkImageReference } from './build-context.js';
import type { RenderedDeployment } from './render-deployment.js';

/** `--node-image`, `--python-image`, `--redis-image`, `--traefik-image`: each replaces its deploy.*Image for one run. */
export interface ImageOverrides {
  nodeImage?: string | undefined;
  pythonImage?: string | undefined;
  redisImage?: string | undefined;
  traefikImage?: string | undefined;
}

export const IMAGE_FLAGS: Readonly<Record<keyof ImageOverrides, string>> = {
  nodeImage: '--node-image',
  pythonImage: '--python-image',
  redisImage: '--redis-image',
  traefikImage: '--traefik-image',
};

/** The config with the flags' images in place of its own (flags override config), each checked to be an image reference. */
export function withImageOverrides(config: GatewayConfig, overrides: ImageOverrides): GatewayConfig {
  const set: Partial<GatewayConfig['deploy']> = {};
  for (const key of Object.keys(IMAGE_FLAGS) as Array<keyof ImageOverrides>) {
    const value = overrides[key];
    if (value === undefined) continue;
    checkImageReference(value, IMAGE_FLAGS[key]);
    set[key] = value;
  }
  return Object.keys(set).length === 0 ? config : { ...config, deploy: { ...config.deploy, ...set } };
}

/** The images a deployment uses, as JSON reports them: the runtime images with what they are built from, and the pulled ones. */
export interface DeploymentImages {
  node: { image: string; base: string };
  python?: { image: string; base: string };
  redis: string;
  traefik?: string;
}

export function deploymentImages(rendered: Pick<RenderedDeployment, 'images' | 'bridges'>): DeploymentImages {
  const { images } = rendered;
  return {
    node: { image: images.node, base: images.nodeBase },
    ...(rendered.bridges.some((b) => b.runtime === 'python') ? { python: { image: images.python, base: images.pythonBase } } : {}),
    redis: images.redis,
    ...(images.traefik === undefined ? {} : { traefik: images.traefik }),
  };
}

/** One line naming every image `up` uses (and so what a host without a registry must have: `mcp-gateway images build`). */
export function describeImages(images: DeploymentImages): string {
  const parts = [
    `${images.node.image} (built FROM ${images.node.base})`,
    ...(images.python ? [`${images.python.image} (built FROM ${images.python.base})`] : []),
    images.redis,
    ...(images.traefik ? [images.traefik] : []),
  ];
  return `images: ${parts.join(', ')}`;
}
