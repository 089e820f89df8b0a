import { createServer } from 'node:net';
import type Docker from 'dockerode';
import { GatewayError } from '../../../runtime/errors.js';
import type { PortMapping } from './compose-model.js';

export interface PortClaim {
  service: string;
  port: PortMapping & { published: number };
}

/**
 * Finds a host port that a service is about to publish but something else holds, before
 * anything is created: a running container outside the project (asked from the engine, so
 * this also works against a remote engine), or, when the engine is on this machine, any process
 * (by binding the port for a moment). A port we cannot bind for lack of privilege (below 1024
 * as a normal user) is left to Docker, whose "port is already allocated" is mapped the same way.
 */
export async function assertPortsFree(
  docker: Docker,
  claims: readonly PortClaim[],
  options: { local: boolean; ignoreContainers: ReadonlySet<string> },
): Promise<void> {
  if (claims.length === 0) return;
  const running = await docker.listContainers();
  const publishes = (c: Docker.ContainerInfo, port: PortClaim['port']): boolean =>
    (c.Ports ?? []).some((p) => p.PublicPort === port.published && p.Type === port.protocol && sameAddress(p.IP, port.hostIp));
  for (const { service, port } of claims) {
    const holder = running.find((c) => !options.ignoreContainers.has(c.Id) && publishes(c, port));
    if (holder) throw portInUse(service, port, `container ${(holder.Names[0] ?? holder.Id).replace(/^\//, '')}`);
    // One of ours holds it through docker-proxy (it stays, or is stopped before its successor starts).
    const heldByOurs = running.some((c) => options.ignoreContainers.has(c.Id) && publishes(c, port));
    if (!heldByOurs && options.local && port.protocol === 'tcp' && (await bindFails(port.hostIp ?? '0.0.0.0', port.published))) {
      throw portInUse(service, port, 'another program on this host');
    }
  }
}

export function portInUse(service: string, port: Pick<PortMapping, 'hostIp' | 'published'>, holder?: string): GatewayError {
  const where = `${port.hostIp || '0.0.0.0'}:${port.published ?? '?'}`;
  return new GatewayError('ERR_DOCKER_PORT_IN_USE', `port ${where} for service ${service} is already in use${holder ? ` by ${holder}` : ''}`, {
    hint: 'stop what holds it, or publish elsewhere: deploy.httpPort / deploy.httpsPort / deploy.bind in mcp-gateway.yaml',
  });
}

/** Docker's own words for a taken port, at container start. */
export function isPortConflict(err: unknown): boolean {
  return /port is already allocated|address already in use/i.test(String((err as Error)?.message ?? err));
}

function sameAddress(published: string | undefined, wanted: string | undefined): boolean {
  const any = (ip: string | undefined): boolean => ip === undefined || ip === '' || ip === '0.0.0.0' || ip === '::';
  return any(published) || any(wanted) || published === wanted;
}

function bindFails(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}
