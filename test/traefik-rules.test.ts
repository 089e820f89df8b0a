import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseRule, routeRequest, ruleMatches, routerPriority, type TraefikRouter } from './helpers/traefik-rules.js';
import { renderSampleFiles, sampleConfig, type DeployShape } from './helpers/deploy-fixtures.js';

async function routersOf(shape: DeployShape, servers?: Parameters<typeof sampleConfig>[1]): Promise<Record<string, TraefikRouter>> {
  const files = await renderSampleFiles(sampleConfig(shape, servers));
  return (parse(files.get('traefik/dynamic.yml')!) as { http: { routers: Record<string, TraefikRouter> } }).http.routers;
}

/** Where a request ends up: the router's name, its service and middlewares, or undefined for Traefik's 404. */
function route(routers: Record<string, TraefikRouter>, url: string) {
  const { host, pathname } = new URL(url);
  const match = routeRequest(routers, { host, path: pathname });
  return match && { router: match.name, service: match.router.service, middlewares: match.router.middlewares ?? [] };
}

const MCP_CHAIN = ['cors-mcp', 'forward-auth', 'strip-client-credentials', 'security-headers'];

describe('the rule evaluator', () => {
  it('follows Traefik: && binds tighter than ||, ! negates, hosts ignore case and port', () => {
    const rule = parseRule('Host(`a.test`) && Path(`/x`) || !PathPrefix(`/y`) && HostRegexp(`^b\\.`)');
    expect(ruleMatches(rule, { host: 'A.TEST:443', path: '/x' })).toBe(true);
    expect(ruleMatches(rule, { host: 'b.test', path: '/z' })).toBe(true);
    expect(ruleMatches(rule, { host: 'b.test', path: '/y/1' })).toBe(false);
    expect(ruleMatches(rule, { host: 'c.test', path: '/x' })).toBe(false);
  });

  it('takes the rule length as the priority unless one is set', () => {
    expect(routerPriority({ rule: 'Path(`/a`)', service: 's' })).toBe(10);
    expect(routerPriority({ rule: 'Path(`/a`)', priority: 300, service: 's' })).toBe(300);
  });

  it('reports two matching routers of the same priority instead of picking one', () => {
    const routers = { a: { rule: 'PathPrefix(`/`)', priority: 5, service: 'x' }, b: { rule: 'Path(`/p`)', priority: 5, service: 'y' } };
    expect(() => routeRequest(routers, { host: 'h', path: '/p' })).toThrow(/same priority/);
  });
});

describe('Traefik routes of the path style (https://mcp.example.com/NAME/mcp)', async () => {
  const routers = await routersOf({ routing: 'path', router: 'traefik' });

  it.each([
    ['https://mcp.example.com/.well-known/oauth-protected-resource/time/mcp', 'auth-wellknown'],
    ['https://mcp.example.com/.well-known/oauth-protected-resource', 'auth-wellknown'],
    ['https://mcp.example.com/.well-known/oauth-authorization-server', 'auth-wellknown'],
    ['https://mcp.example.com/.well-known/openid-configuration', 'auth-wellknown'],
    ['https://mcp.example.com/register', 'auth-register'],
    ['https://mcp.example.com/token', 'auth-token'],
    ['https://mcp.example.com/register/client-123', 'auth-api'],
    ['https://mcp.example.com/revoke', 'auth-api'],
    ['https://mcp.example.com/admin/clients', 'auth-admin'],
    ['https://mcp.example.com/introspect', 'auth-api'],
    ['https://mcp.example.com/jwks.json', 'auth-api'],
    ['https://mcp.example.com/health', 'auth-api'],
    ['https://mcp.example.com/authorize', 'auth-pages'],
    ['https://mcp.example.com/callback', 'auth-pages'],
    ['https://mcp.example.com/consent', 'auth-pages'],
    ['https://mcp.example.com/login/local', 'auth-pages'],
  ])('%s goes to the auth runtime through %s', (url, router) => {
    expect(route(routers, url)).toMatchObject({ router, service: 'auth' });
  });

  it.each([
    ['https://mcp.example.com/time/mcp', 'time'],
    ['https://mcp.example.com/time/mcp/', 'time'],
    ['https://mcp.example.com/memory/mcp', 'memory'],
    ['https://mcp.example.com/docs/mcp', 'docs'],
    ['https://MCP.example.com:443/demo/mcp', 'demo'],
  ])('%s goes to bridge-%s after ForwardAuth, without the client credentials', (url, server) => {
    expect(route(routers, url)).toEqual({ router: `mcp-${server}`, service: `bridge-${server}`, middlewares: MCP_CHAIN });
  });

  it('rate-limits registration and the token endpoint, not the other OAuth endpoints', () => {
    expect(route(routers, 'https://mcp.example.com/register')?.middlewares).toContain('ratelimit-register');
    expect(route(routers, 'https://mcp.example.com/token')?.middlewares).toContain('ratelimit-token');
    expect(route(routers, 'https://mcp.example.com/register/client-123')?.middlewares.join()).not.toMatch(/ratelimit/);
  });

  it('frames no login or consent page and sends CORS headers on the OAuth API', () => {
    expect(route(routers, 'https://mcp.example.com/consent')?.middlewares).toEqual(['security-headers-html']);
    expect(route(routers, 'https://mcp.example.com/token')?.middlewares[0]).toBe('cors-oauth');
  });

  it.each([
    'https://mcp.example.com/',
    'https://mcp.example.com/unknown',
    'https://mcp.example.com/verify',
    'https://mcp.example.com/time/mcp/extra',
    'https://mcp.example.com/nosuch/mcp',
    'https://other.example.com/time/mcp',
    'https://time.mcp.example.com/mcp',
  ])('%s matches no router (404)', (url) => {
    expect(route(routers, url)).toBeUndefined();
  });

  it('lets an MCP route win over an OAuth prefix when a server is named like an endpoint', async () => {
    const clash = await routersOf({ routing: 'path', router: 'traefik' }, { register: { command: 'npx', args: ['x'] }, token: { builtin: 'demo' } });
    expect(route(clash, 'https://mcp.example.com/register/mcp')).toMatchObject({ router: 'mcp-register', service: 'bridge-register' });
    expect(route(clash, 'https://mcp.example.com/register')).toMatchObject({ router: 'auth-register', service: 'auth' });
    expect(route(clash, 'https://mcp.example.com/token/mcp')).toMatchObject({ router: 'mcp-token', service: 'bridge-token' });
    expect(route(clash, 'https://mcp.example.com/.well-known/oauth-protected-resource/register/mcp')).toMatchObject({ service: 'auth' });
  });
});

describe('Traefik routes of the subdomain style (https://NAME.example.com/mcp)', async () => {
  const routers = await routersOf({ routing: 'subdomain', router: 'traefik' });

  it.each([
    ['https://time.example.com/mcp', 'time'],
    ['https://time.example.com/mcp/', 'time'],
    ['https://docs.example.com/mcp', 'docs'],
  ])('%s goes to bridge-%s after ForwardAuth', (url, server) => {
    expect(route(routers, url)).toEqual({ router: `mcp-${server}`, service: `bridge-${server}`, middlewares: MCP_CHAIN });
  });

  it.each([
    ['https://time.example.com/.well-known/oauth-authorization-server', 'wellknown-time'],
    ['https://time.example.com/.well-known/oauth-protected-resource/mcp', 'wellknown-time'],
    ['https://time.example.com/.well-known/oauth-protected-resource', 'wellknown-time'],
    ['https://memory.example.com/.well-known/openid-configuration', 'wellknown-memory'],
    ['https://example.com/.well-known/oauth-authorization-server', 'auth-wellknown'],
    ['https://example.com/register', 'auth-register'],
    ['https://example.com/token', 'auth-token'],
    ['https://example.com/authorize', 'auth-pages'],
  ])('%s goes to the auth runtime through %s', (url, router) => {
    expect(route(routers, url)).toMatchObject({ router, service: 'auth' });
  });

  it.each([
    'https://example.com/time/mcp',
    'https://example.com/mcp',
    'https://time.example.com/register',
    'https://time.example.com/authorize',
    'https://time.example.com/other',
    'https://unknown.example.com/mcp',
    'https://unknown.example.com/.well-known/oauth-authorization-server',
    'https://a.time.example.com/mcp',
  ])('%s matches no router (404)', (url) => {
    expect(route(routers, url)).toBeUndefined();
  });
});
