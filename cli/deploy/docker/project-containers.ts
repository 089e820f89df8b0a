import type Docker from 'dockerode';
import { LABEL_SERVER, LABEL_SERVICE, LABEL_SPEC_HASH, projectFilter } from './labels.js';
import type { ExistingContainer } from './reconcile-plan.js';

/** One container of a deployment, as `status`, `logs` and `down` show it. */
export interface ProjectContainer extends ExistingContainer {
  /** `io.mcp-gateway.server` of a bridge. */
  server: string | undefined;
  image: string;
  /** Docker's human status, e.g. "Up 3 minutes (healthy)". */
  status: string;
  /** From the status: healthy, unhealthy, starting; undefined without a healthcheck or when not running. */
  health: 'healthy' | 'unhealthy' | 'starting' | undefined;
  /** Published ports as `HOST_IP:HOST_PORT->PORT/PROTO` (unpublished ones as `PORT/PROTO`). */
  ports: string[];
  /** Seconds since the epoch. */
  created: number;
}

/** Every container labelled with the project, running or not; never anything else. */
export async function listProjectContainers(docker: Docker, project: string): Promise<ProjectContainer[]> {
  const found = await docker.listContainers({ all: true, filters: JSON.stringify(projectFilter(project)) });
  return found.map(toProjectContainer).sort((a, b) => (a.service ?? a.name).localeCompare(b.service ?? b.name) || a.name.localeCompare(b.name));
}

export function toProjectContainer(info: Docker.ContainerInfo): ProjectContainer {
  const health = /\((healthy|unhealthy|health: starting)\)/.exec(info.Status)?.[1];
  const ports = [
    ...new Set((info.Ports ?? []).map((p) => (p.PublicPort ? `${p.IP ?? ''}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))),
  ].sort();
  return {
    id: info.Id,
    name: (info.Names[0] ?? info.Id).replace(/^\//, ''),
    service: info.Labels[LABEL_SERVICE],
    server: info.Labels[LABEL_SERVER],
    hash: info.Labels[LABEL_SPEC_HASH],
    state: info.State,
    status: info.Status,
    health: health === undefined ? undefined : health === 'health: starting' ? 'starting' : (health as 'healthy' | 'unhealthy'),
    image: info.Image,
    ports,
    created: info.Created,
  };
}
