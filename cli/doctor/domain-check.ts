import { isIP } from 'node:net';
import { forbiddenAddressReason } from '../../runtime/auth/clients/cimd/ssrf-guard.js';
import { isLoopbackHost } from '../../runtime/config/schema.js';
import { skip, worst, type CheckResult, type CheckStatus, type DoctorContext } from './doctor-check.js';

interface HostFinding {
  status: CheckStatus;
  text: string;
  fix?: string;
}

const WHY = 'Claude.ai, ChatGPT and other hosted clients connect from the internet, so the name must resolve to a public IPv4 address that reaches this host';

/**
 * The hosts remote clients connect to (the public URL's, and with subdomain routing each
 * `NAME.<domain>`) resolve to a public IPv4 address. A loopback, private (RFC 1918), CGNAT or
 * link-local address works from this machine or this network only: a hosted client's
 * connection then fails before any OAuth, with an error that does not say why.
 */
export async function checkDomain(ctx: DoctorContext): Promise<CheckResult> {
  const { config } = ctx;
  const publicHost = config.publicUrl.hostname.replace(/^\[|\]$/g, '');
  if (isLoopbackHost(publicHost)) {
    return skip(
      'domain',
      `publicUrl ${config.publicUrl.origin} is on loopback: clients on this machine only (Claude Code, Cursor, MCP Inspector); remote clients such as Claude.ai cannot reach it`,
    );
  }
  const hosts = [publicHost];
  if (config.deploy.routing === 'subdomain') {
    const base = config.deploy.domain ?? publicHost;
    for (const name of Object.keys(config.servers)) hosts.push(`${name}.${base}`);
  }
  const findings = await Promise.all([...new Set(hosts)].map((host) => inspectHost(ctx, host)));
  const fixes = [...new Set(findings.map((f) => f.fix).filter((f): f is string => f !== undefined))];
  const result: CheckResult = { name: 'domain', status: worst(findings.map((f) => f.status)), detail: findings.map((f) => f.text).join('; ') };
  return fixes.length === 0 ? result : { ...result, fix: fixes.join('\n') };
}

async function inspectHost(ctx: DoctorContext, host: string): Promise<HostFinding> {
  let addresses: Array<{ address: string; family: number }>;
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await withTimeout(ctx.deps.lookup(host), ctx.deps.timeoutMs, `no DNS answer within ${ctx.deps.timeoutMs} ms`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const reason = code === 'ENOTFOUND' || code === 'ENODATA' ? 'does not resolve' : `could not be resolved (${code ?? (err as Error).message})`;
      return { status: 'fail', text: `${host} ${reason}`, fix: `create a DNS A record for ${host} pointing at this host's public IPv4 address (${WHY})` };
    }
  }
  const v4 = addresses.filter((a) => a.family === 4);
  const publicV4 = v4.filter((a) => forbiddenAddressReason(a.address) === undefined);
  const nonPublic = addresses
    .map((a) => ({ address: a.address, reason: forbiddenAddressReason(a.address) }))
    .filter((a): a is { address: string; reason: string } => a.reason !== undefined);
  const list = (items: Array<{ address: string }>): string => items.map((a) => a.address).join(', ');
  if (publicV4.length > 0 && nonPublic.length === 0) return { status: 'pass', text: `${host} resolves to ${list(addresses)}` };
  if (publicV4.length > 0) {
    return {
      status: 'warn',
      text: `${host} resolves to ${list(publicV4)} but also to ${nonPublic.map((a) => `${a.address} (${a.reason})`).join(', ')}`,
      fix: `remove the non-public records of ${host}: a client that picks one of them cannot connect`,
    };
  }
  if (nonPublic.length === 0 && addresses.length > 0) {
    // Public IPv6 only: fine for clients with IPv6, but not every hosted client has it.
    return {
      status: 'warn',
      text: `${host} resolves to ${list(addresses)} (IPv6 only, no A record)`,
      fix: `add a DNS A record for ${host} with this host's public IPv4 address`,
    };
  }
  const found = nonPublic.length === 0 ? 'no address' : nonPublic.map((a) => `${a.address} (${a.reason})`).join(', ');
  return {
    status: 'fail',
    text: `${host} resolves to ${found}, which remote clients cannot reach: ${WHY}`,
    fix: `point ${host}'s A record at this host's public IPv4 address (behind NAT: forward ports 80/443 to it), or expose the gateway through a tunnel (cloudflared, ngrok) and set publicUrl to the tunnel's https URL`,
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(message), { code: 'ETIMEOUT' })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
