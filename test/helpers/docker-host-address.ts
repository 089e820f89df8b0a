import type Docker from 'dockerode';
import { networkInterfaces } from 'node:os';

/**
 * The host's address on Docker's default bridge: containers on any bridge network reach it,
 * nothing outside this host does (stand-ins for GitHub or a remote server listen there). Docker
 * gives the bridge the first address of its subnet; libuv does not list the interface while no
 * container uses it (link down), hence the subnet.
 */
export async function bridgeGatewayAddress(docker: Docker): Promise<string> {
  const bridge = await docker.getNetwork('bridge').inspect();
  const ipam = (bridge.IPAM?.Config ?? []) as Array<{ Gateway?: string; Subnet?: string }>;
  const configured = ipam.map((c) => c.Gateway).find(Boolean);
  if (configured) return configured;
  const name = bridge.Options?.['com.docker.network.bridge.name'] ?? 'docker0';
  const listed = networkInterfaces()[name]?.find((a) => a.family === 'IPv4')?.address;
  if (listed) return listed;
  const subnet = ipam.map((c) => c.Subnet).find((s) => s !== undefined && /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(s));
  if (!subnet) throw new Error(`no IPv4 address for ${name}, the Docker bridge`);
  const [base, bits] = subnet.split('/') as [string, string];
  const value = base.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const first = ((value >>> 0) & (~0 << (32 - Number(bits)))) + 1;
  return [24, 16, 8, 0].map((shift) => (first >>> shift) & 255).join('.');
}
