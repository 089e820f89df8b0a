import type Docker from 'dockerode';
import { LABEL_PROJECT, LABEL_SERVER, LABEL_SERVICE } from '../docker/labels.js';
import { STACK_NAMESPACE } from './stack-names.js';

/**
 * The label filter of one project's swarm objects: ours and the stack namespace, both. A stack
 * deployed from the same stack.yaml under another name (`docker stack deploy -c stack.yaml other`)
 * carries the project label too, and is not this project's to update or remove.
 */
export function swarmProjectFilter(project: string): { label: string[] } {
  return { label: [`${LABEL_PROJECT}=${project}`, `${STACK_NAMESPACE}=${project}`] };
}

/** One swarm service of the project, as `status`, `logs`, `up` and `down` need it. */
export interface ProjectService {
  id: string;
  /** `<project>_<key>`. */
  name: string;
  /** Key in stack.yaml (io.mcp-gateway.service): redis, auth, router, bridge-NAME. */
  service: string;
  server: string | undefined;
  /** The engine's version index of the spec, which an update must name. */
  version: number;
  labels: Record<string, string>;
  image: string;
  desired: number;
  /** Tasks running (and, with a healthcheck, healthy: swarm reports them running only then). */
  running: number;
  /** Host-mode and ingress ports: `PUBLISHED->TARGET/PROTO (mode)`. */
  ports: string[];
  /** The last rolling update: updating, completed, paused, rollback_started, rollback_completed... */
  update: { state: string; message: string | undefined } | undefined;
  /** The secrets and configs its spec and its previous spec (what a rollback returns to) name. */
  references: { secrets: string[]; configs: string[] };
  networks: string[];
}

export async function listProjectServices(docker: Docker, project: string): Promise<ProjectService[]> {
  const services = await docker.listServices({ filters: swarmProjectFilter(project), status: true });
  return services
    .map((service): ProjectService => {
      const spec = service.Spec ?? {};
      const labels = (spec.Labels ?? {}) as Record<string, string>;
      const name = spec.Name ?? service.ID;
      const task = spec.TaskTemplate as Docker.ContainerTaskSpec | undefined;
      const previous = service.PreviousSpec?.TaskTemplate as Docker.ContainerTaskSpec | undefined;
      const containers = [task?.ContainerSpec, previous?.ContainerSpec];
      return {
        id: service.ID,
        name,
        service: labels[LABEL_SERVICE] ?? name.slice(project.length + 1),
        server: labels[LABEL_SERVER],
        version: service.Version?.Index ?? 0,
        labels,
        image: (task?.ContainerSpec?.Image ?? '').replace(/@sha256:[0-9a-f]+$/, ''),
        desired: service.ServiceStatus?.DesiredTasks ?? spec.Mode?.Replicated?.Replicas ?? 0,
        running: service.ServiceStatus?.RunningTasks ?? 0,
        ports: (service.Endpoint?.Ports ?? spec.EndpointSpec?.Ports ?? []).map(
          (port) => `${port.PublishedPort ?? '?'}->${port.TargetPort ?? '?'}/${port.Protocol ?? 'tcp'} (${port.PublishMode ?? 'ingress'})`,
        ),
        update: service.UpdateStatus?.State === undefined ? undefined : { state: service.UpdateStatus.State, message: service.UpdateStatus.Message },
        references: {
          secrets: [...new Set(containers.flatMap((c) => (c?.Secrets ?? []).map((s) => s.SecretName ?? '')))].filter(Boolean),
          configs: [...new Set(containers.flatMap((c) => (c?.Configs ?? []).map((s) => s.ConfigName ?? '')))].filter(Boolean),
        },
        networks: [...new Set([task, previous].flatMap((t) => (t?.Networks ?? spec.Networks ?? []).map((n) => n.Target ?? '')))].filter(Boolean),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Names (and IDs) of the project's networks, secrets and configs. */
export async function listProjectObjects(
  docker: Docker,
  project: string,
): Promise<{ networks: Array<{ id: string; name: string }>; secrets: Array<{ id: string; name: string }>; configs: Array<{ id: string; name: string }> }> {
  const filters = swarmProjectFilter(project);
  const [networks, secrets, configs] = await Promise.all([
    docker.listNetworks({ filters }),
    docker.listSecrets({ filters }) as Promise<Array<{ ID: string; Spec?: { Name?: string } }>>,
    docker.listConfigs({ filters }) as Promise<Array<{ ID: string; Spec?: { Name?: string } }>>,
  ]);
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    networks: networks
      .filter((n) => n.Scope === 'swarm')
      .map((n) => ({ id: n.Id, name: n.Name }))
      .sort(byName),
    secrets: secrets.map((s) => ({ id: s.ID, name: s.Spec?.Name ?? s.ID })).sort(byName),
    configs: configs.map((c) => ({ id: c.ID, name: c.Spec?.Name ?? c.ID })).sort(byName),
  };
}
