import type Docker from 'dockerode';
import type { ComposeProject, ComposeService } from '../docker/compose-model.js';
import { ensureImages, type ImageEvent } from '../docker/ensure-images.js';
import type { StackProject } from './stack-model.js';

/**
 * Makes the stack's images exist on this engine, as `up` does for compose: a runtime image is
 * built from build/ (x-build says how) when its tag is missing, any other one pulled. On a
 * swarm of one node that is all it needs; other nodes need them from a registry (docs/swarm.md).
 *
 * ensureImages reads a compose project; each swarm service stands in as a compose service with
 * nothing but its name, image and build, which is all it looks at.
 */
export function ensureStackImages(docker: Docker, stack: StackProject, onEvent?: (event: ImageEvent) => void): Promise<Map<string, string>> {
  const services = stack.services.map(
    (service): ComposeService => ({
      name: service.key,
      image: service.image,
      ...(stack.builds[service.image] === undefined ? {} : { build: stack.builds[service.image]! }),
      containerName: service.name,
      environment: {},
      envFiles: [],
      ports: [],
      expose: [],
      mounts: [],
      networks: [],
      labels: {},
      dependsOn: [],
      capAdd: [],
      capDrop: [],
      securityOpt: [],
      extraHosts: [],
    }),
  );
  const project: ComposeProject = { name: stack.name, dir: stack.dir, services, networks: {}, volumes: {}, unsetVariables: [] };
  return ensureImages(docker, project, onEvent);
}
