import { isIP } from 'node:net';

/**
 * Which addresses a Client ID Metadata Document may be fetched from. CIMD §8.6 (draft-02): the
 * authorization server MUST NOT fetch a URL that resolves to a special-use address (RFC 6890,
 * kept current in IANA's IPv4/IPv6 Special-Purpose Address Registries). The client_id is chosen
 * by whoever sends an authorization request, so without this anyone could make the gateway
 * request its own admin ports, the cloud metadata service (169.254.169.254) or the LAN.
 *
 * Blocked is the whole special-purpose registry, not only "private" space: documentation and
 * benchmarking ranges are never a legitimate client's home, and a short deny list that misses
 * one range is how SSRF guards usually fail. Addresses that embed an IPv4 address
 * (IPv4-mapped, NAT64 64:ff9b::/96, 6to4) are judged by the IPv4 address inside.
 */

interface Range {
  bytes: Uint8Array;
  prefix: number;
  reason: string;
}

const IPV4_RANGES: Range[] = [
  range('0.0.0.0/8', '"this network" (RFC 791)'),
  range('10.0.0.0/8', 'private (RFC 1918)'),
  range('100.64.0.0/10', 'shared address space / CGNAT (RFC 6598)'),
  range('127.0.0.0/8', 'loopback (RFC 1122)'),
  range('169.254.0.0/16', 'link-local, cloud metadata services (RFC 3927)'),
  range('172.16.0.0/12', 'private (RFC 1918)'),
  range('192.0.0.0/24', 'IETF protocol assignments (RFC 6890)'),
  range('192.0.2.0/24', 'documentation (RFC 5737)'),
  range('192.88.99.0/24', '6to4 relay anycast (RFC 7526)'),
  range('192.168.0.0/16', 'private (RFC 1918)'),
  range('198.18.0.0/15', 'benchmarking (RFC 2544)'),
  range('198.51.100.0/24', 'documentation (RFC 5737)'),
  range('203.0.113.0/24', 'documentation (RFC 5737)'),
  range('224.0.0.0/4', 'multicast (RFC 5771)'),
  range('240.0.0.0/4', 'reserved or broadcast (RFC 1112, RFC 919)'),
];

const IPV6_RANGES: Range[] = [
  range('::/128', 'unspecified (RFC 4291)'),
  range('::1/128', 'loopback (RFC 4291)'),
  range('::/96', 'IPv4-compatible, deprecated (RFC 4291)'),
  range('::ffff:0:0:0/96', 'IPv4-translated (RFC 2765)'),
  range('64:ff9b:1::/48', 'local-use NAT64 (RFC 8215)'),
  range('100::/64', 'discard-only (RFC 6666)'),
  range('2001::/23', 'IETF protocol assignments, Teredo (RFC 2928, RFC 4380)'),
  range('2001:db8::/32', 'documentation (RFC 3849)'),
  range('3fff::/20', 'documentation (RFC 9637)'),
  range('5f00::/16', 'segment routing SIDs (RFC 9602)'),
  range('fc00::/7', 'unique-local (RFC 4193)'),
  range('fe80::/10', 'link-local (RFC 4291)'),
  range('fec0::/10', 'site-local, deprecated (RFC 3879)'),
  range('ff00::/8', 'multicast (RFC 4291)'),
];

/** IPv6 prefixes whose addresses carry an IPv4 address at a fixed offset (bytes). */
const EMBEDDED_IPV4: Array<{ range: Range; offset: number }> = [
  { range: range('::ffff:0:0/96', 'IPv4-mapped'), offset: 12 },
  { range: range('64:ff9b::/96', 'NAT64'), offset: 12 },
  { range: range('2002::/16', '6to4'), offset: 2 },
];

/**
 * Why `address` (an IP literal, as DNS returns it) must not be fetched from, or undefined when
 * it is an ordinary public unicast address. Anything that is not a valid IP address is refused.
 */
export function forbiddenAddressReason(address: string): string | undefined {
  const bytes = parseIp(address);
  if (bytes === undefined) return 'not a valid IP address';
  if (bytes.length === 4) return matching(IPV4_RANGES, bytes);
  for (const { range: embedding, offset } of EMBEDDED_IPV4) {
    if (inRange(embedding, bytes)) {
      const inner = matching(IPV4_RANGES, bytes.subarray(offset, offset + 4));
      return inner === undefined ? undefined : `${embedding.reason} form of an address that is ${inner}`;
    }
  }
  return matching(IPV6_RANGES, bytes);
}

function matching(ranges: Range[], bytes: Uint8Array): string | undefined {
  return ranges.find((r) => inRange(r, bytes))?.reason;
}

function inRange(r: Range, bytes: Uint8Array): boolean {
  if (r.bytes.length !== bytes.length) return false;
  const whole = Math.floor(r.prefix / 8);
  for (let i = 0; i < whole; i++) if (r.bytes[i] !== bytes[i]) return false;
  const rest = r.prefix % 8;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((r.bytes[whole] ?? 0) & mask) === ((bytes[whole] ?? 0) & mask);
}

function range(cidr: string, reason: string): Range {
  const [address = '', prefix = ''] = cidr.split('/');
  const bytes = parseIp(address);
  if (bytes === undefined) throw new TypeError(`bad CIDR in the SSRF table: ${cidr}`);
  return { bytes, prefix: Number(prefix), reason };
}

/** 4 or 16 bytes for a valid IPv4 / IPv6 literal (an IPv6 zone such as `%eth0` is ignored). */
export function parseIp(input: string): Uint8Array | undefined {
  const address = input.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(address);
  if (family === 4) return Uint8Array.from(address.split('.').map(Number));
  if (family !== 6) return undefined;
  let text = address;
  const tail: number[] = [];
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted?.[1] !== undefined) {
    tail.push(...dotted[1].split('.').map(Number));
    // Replace the dotted quad by two placeholder groups so the group count below stays right.
    text = `${text.slice(0, dotted.index)}0:0`;
  }
  const [head = '', after] = text.split('::');
  const groupsOf = (s: string): number[] => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const left = groupsOf(head);
  const right = after === undefined ? [] : groupsOf(after);
  const groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return bytes;
}
