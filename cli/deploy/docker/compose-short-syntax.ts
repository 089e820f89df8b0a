import { isAbsolute, resolve } from 'node:path';
import type { Mount, PortMapping } from './compose-model.js';
import type { RawComposeService } from './compose-schema.js';

/**
 * The short syntaxes of compose (spec.md "ports", "volumes") expanded into the typed model. Each
 * returns a string saying what is wrong instead of throwing, so the loader can report every
 * problem with its dotted path at once.
 */

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, IPv6 host addresses in brackets; no ranges. */
export function parsePort(
  entry: number | string | { target: number; published?: number | string | undefined; host_ip?: string | undefined; protocol?: 'tcp' | 'udp' | undefined },
): PortMapping | string {
  if (typeof entry === 'object') {
    const published = entry.published === undefined ? undefined : Number(entry.published);
    if (published !== undefined && !validPort(published)) return `published must be a port number, not ${String(entry.published)}`;
    return { target: entry.target, protocol: entry.protocol ?? 'tcp', ...optional('published', published), ...optional('hostIp', entry.host_ip) };
  }
  const match = /^(?:(?:(\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]*):)?(\d*):)?(\d+)(?:\/(tcp|udp))?$/.exec(String(entry));
  if (!match) return `${String(entry)} is not [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL] (port ranges are not supported)`;
  const [, host, hostPort, target, protocol] = match;
  const published = hostPort ? Number(hostPort) : undefined;
  if (!validPort(Number(target)) || (published !== undefined && !validPort(published))) return `${String(entry)}: ports are 1-65535`;
  return {
    target: Number(target),
    protocol: (protocol as 'tcp' | 'udp' | undefined) ?? 'tcp',
    ...optional('published', published),
    ...optional('hostIp', host ? host.replace(/^\[|\]$/g, '') : undefined),
  };
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

type RawMount = Exclude<NonNullable<RawComposeService['volumes']>[number], string>;

/** `SOURCE:TARGET[:MODE]` or `TARGET`; a source starting with `.`, `/` or `~` is a host path. */
export function parseMount(entry: string | RawMount, dir: string): Mount | string {
  if (typeof entry !== 'string') {
    if (entry.type === 'tmpfs') {
      const size = entry.tmpfs?.size === undefined ? undefined : parseBytes(entry.tmpfs.size);
      return { type: 'tmpfs', target: entry.target, ...optional('sizeBytes', size), ...optional('mode', entry.tmpfs?.mode) };
    }
    if (entry.type === 'bind') {
      if (entry.source === undefined) return 'a bind mount needs a source';
      return {
        type: 'bind',
        source: hostPath(entry.source, dir),
        target: entry.target,
        readOnly: entry.read_only ?? false,
        createHostPath: entry.bind?.create_host_path ?? true,
      };
    }
    return {
      type: 'volume',
      ...optional('source', entry.source),
      target: entry.target,
      readOnly: entry.read_only ?? false,
      noCopy: entry.volume?.nocopy ?? false,
    };
  }
  const parts = entry.split(':');
  if (parts.length === 1) return { type: 'volume', target: parts[0]!, readOnly: false, noCopy: false };
  if (parts.length > 3) return `${entry} is not SOURCE:TARGET[:MODE]`;
  const [source, target, mode = 'rw'] = parts as [string, string, string | undefined];
  const modes = mode.split(',');
  if (!target.startsWith('/')) return `${entry}: the target must be an absolute path in the container`;
  const readOnly = modes.includes('ro');
  if (/^[./~]/.test(source)) return { type: 'bind', source: hostPath(source, dir), target, readOnly, createHostPath: true };
  return { type: 'volume', source, target, readOnly, noCopy: modes.includes('nocopy') };
}

function hostPath(source: string, dir: string): string {
  if (source === '~' || source.startsWith('~/')) return resolve(process.env['HOME'] ?? '/', source.slice(2));
  return isAbsolute(source) ? source : resolve(dir, source);
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

export function parseBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return value;
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim());
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  return match && unit !== undefined ? Math.round(Number(match[1]) * unit) : undefined;
}
