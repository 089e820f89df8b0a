import type { ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseComposeProject } from '../cli/deploy/docker/load-compose-project.js';
import { composeSpecValidator, problems, traefikValidators } from './helpers/deploy-schemas.js';
import { renderSampleFiles, sampleConfig, type DeployShape } from './helpers/deploy-fixtures.js';

// Traefik is not installable on the build machine (DESIGN.md): its published JSON Schemas stand
// in for it (helpers/deploy-schemas.ts).
const SHAPES: DeployShape[] = [
  { routing: 'path', router: 'traefik' },
  { routing: 'subdomain', router: 'traefik' },
  { routing: 'path', router: 'builtin' },
  { routing: 'subdomain', router: 'builtin' },
];

describe('rendered files validate against the published schemas', () => {
  let traefikStatic: ValidateFunction;
  let traefikDynamic: ValidateFunction;
  let compose: ValidateFunction;
  beforeAll(async () => {
    ({ static: traefikStatic, dynamic: traefikDynamic } = await traefikValidators());
    compose = await composeSpecValidator();
  });

  describe.each(SHAPES)('$routing routing, $router router', (shape) => {
    let files: Map<string, string>;
    beforeAll(async () => {
      files = await renderSampleFiles(sampleConfig(shape));
    });

    it('compose.yaml is a valid compose file', () => {
      const ok = compose(parse(files.get('compose.yaml')!));
      expect(problems(compose), 'compose-spec').toBe('');
      expect(ok).toBe(true);
    });

    it('compose.yaml is one that `mcp-gateway up` reads', () => {
      const project = parseComposeProject(files.get('compose.yaml')!, '/srv/gw/deploy/compose.yaml', { env: {} });
      expect(project.name).toBe('mcpgw-gw');
      expect(project.unsetVariables).toEqual([]);
      expect(project.services.map((s) => s.name)).toEqual([
        'redis',
        'auth',
        shape.router === 'traefik' ? 'traefik' : 'router',
        'bridge-demo',
        'bridge-docs',
        'bridge-memory',
        'bridge-time',
      ]);
    });

    if (shape.router === 'traefik') {
      it('traefik/traefik.yml is valid Traefik v3 static configuration', () => {
        const ok = traefikStatic(parse(files.get('traefik/traefik.yml')!));
        expect(problems(traefikStatic), 'traefik-v3.json').toBe('');
        expect(ok).toBe(true);
      });

      it('traefik/dynamic.yml is valid Traefik v3 file-provider configuration', () => {
        const ok = traefikDynamic(parse(files.get('traefik/dynamic.yml')!));
        expect(problems(traefikDynamic), 'traefik-v3-file-provider.json').toBe('');
        expect(ok).toBe(true);
      });
    } else {
      it('writes no Traefik files for the built-in router', () => {
        expect([...files.keys()].filter((path) => path.startsWith('traefik/'))).toEqual([]);
      });
    }
  });

  it('compose.yaml with servers.NAME.limits, mounts and network: none is a valid compose file', async () => {
    const config = sampleConfig(
      { routing: 'path', router: 'traefik' },
      {
        sealed: {
          command: 'node',
          args: ['/opt/tools/server.mjs'],
          network: 'none',
          limits: { memory: '300MiB', cpus: 0.25, pids: 32 },
          mounts: [{ path: '/opt/tools', readOnly: true }],
        },
        demo: { builtin: 'demo', limits: { memory: '2g' } },
      },
    );
    const file = parse((await renderSampleFiles(config)).get('compose.yaml')!) as {
      services: Record<string, Record<string, unknown>>;
      networks: Record<string, Record<string, unknown>>;
    };
    expect(compose(file), problems(compose)).toBe(true);
    expect(file.services['bridge-sealed']).toMatchObject({
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      mem_limit: '300m',
      cpus: 0.25,
      pids_limit: 32,
      network_mode: 'none',
    });
    expect(file.services['bridge-sealed']!['networks']).toBeUndefined();
    expect(file.services['bridge-sealed']!['volumes']).toContainEqual({ type: 'bind', source: '/opt/tools', target: '/opt/tools', read_only: true });
    expect(file.services['bridge-sealed']!['volumes']).toContainEqual({ type: 'volume', source: 'socket-sealed', target: '/run/mcpgw' });
    expect(file.services['bridge-demo']).toMatchObject({ mem_limit: '2g', cpus: 1, pids_limit: 512 });
    // Traefik reaches the relay on its internal network under the bridge's name: the same route as every other server.
    expect(file.services['relay-sealed']).toMatchObject({
      read_only: true,
      cap_drop: ['ALL'],
      security_opt: ['no-new-privileges:true'],
      networks: { 'relay-sealed': { aliases: ['bridge-sealed'] } },
    });
    expect(file.services['relay-sealed']!['env_file']).toBeUndefined();
    expect(file.services['relay-sealed']!['volumes']).toEqual([{ type: 'volume', source: 'socket-sealed', target: '/run/mcpgw', read_only: true }]);
    expect(file.networks['relay-sealed']).toMatchObject({ internal: true });
    expect(file.networks['bridge-sealed']).toBeUndefined();
    expect(file.services['traefik']!['networks']).toEqual(['default', 'bridge-demo', 'relay-sealed']);
  });

  it('traefik/dynamic.yml with a network: none server is valid and routes it to bridge-NAME:8000 like the others', async () => {
    const config = sampleConfig({ routing: 'path', router: 'traefik' }, { sealed: { command: 'node', args: ['/opt/tools/server.mjs'], network: 'none' } });
    const dynamic = parse((await renderSampleFiles(config)).get('traefik/dynamic.yml')!) as {
      http: { services: Record<string, { loadBalancer: { servers: Array<{ url: string }> } }> };
    };
    expect(traefikDynamic(dynamic), problems(traefikDynamic)).toBe(true);
    expect(dynamic.http.services['bridge-sealed']!.loadBalancer.servers).toEqual([{ url: 'http://bridge-sealed:8000' }]);
  });

  it('the validators refuse what compose and Traefik would refuse', async () => {
    const files = await renderSampleFiles(sampleConfig({ routing: 'path', router: 'traefik' }));
    const composeFile = parse(files.get('compose.yaml')!) as { services: Record<string, Record<string, unknown>> };
    composeFile.services['auth']!['healthcheck'] = { test: ['CMD', 'true'], interval: 'ten seconds' };
    expect(compose(composeFile)).toBe(false);
    const dynamic = parse(files.get('traefik/dynamic.yml')!) as { http: { routers: Record<string, Record<string, unknown>> } };
    dynamic.http.routers['auth-api']!['rules'] = 'Path(`/x`)';
    expect(traefikDynamic(dynamic)).toBe(false);
    const staticConfig = parse(files.get('traefik/traefik.yml')!) as { providers: Record<string, Record<string, unknown>> };
    staticConfig.providers['docker']!['exposedbydefault'] = false;
    expect(traefikStatic(staticConfig)).toBe(false);
  });

  it('with trustedProxies, both entry points keep what those proxies forward for (forwardedHeaders.trustedIPs); without, neither does', async () => {
    const config = sampleConfig({ routing: 'path', router: 'traefik' });
    const entryPoints = async (extra: Record<string, unknown>) => {
      const staticConfig = parse((await renderSampleFiles({ ...config, ...extra } as typeof config)).get('traefik/traefik.yml')!) as {
        entryPoints: Record<string, { forwardedHeaders?: unknown }>;
      };
      expect(traefikStatic(staticConfig), problems(traefikStatic)).toBe(true);
      return staticConfig.entryPoints;
    };
    const trusted = await entryPoints({ trustedProxies: ['10.0.0.0/8', 'fd00::/8'] });
    expect(trusted['web']!.forwardedHeaders).toEqual({ trustedIPs: ['10.0.0.0/8', 'fd00::/8'] });
    expect(trusted['websecure']!.forwardedHeaders).toEqual({ trustedIPs: ['10.0.0.0/8', 'fd00::/8'] });
    const plain = await entryPoints({});
    expect(plain['web']!.forwardedHeaders).toBeUndefined();
    expect(plain['websecure']!.forwardedHeaders).toBeUndefined();
  });

  it('with the dashboard on, the static config enables it and compose publishes it on loopback only', async () => {
    const config = sampleConfig({ routing: 'path', router: 'traefik' });
    const files = await renderSampleFiles({ ...config, deploy: { ...config.deploy, dashboard: true, httpsPort: 8443 } });
    const staticConfig = parse(files.get('traefik/traefik.yml')!) as {
      api: unknown;
      entryPoints: { web: { http: { redirections: { entryPoint: { to: string } } } } };
    };
    expect(traefikStatic(staticConfig), problems(traefikStatic)).toBe(true);
    expect(staticConfig.api).toEqual({ dashboard: true, insecure: true });
    // Redirects name the published HTTPS port when it is not 443.
    expect(staticConfig.entryPoints.web.http.redirections.entryPoint.to).toBe(':8443');
    const traefik = (parse(files.get('compose.yaml')!) as { services: Record<string, { ports: unknown[] }> }).services['traefik']!;
    expect(traefik.ports).toContainEqual({ target: 8080, published: 8080, host_ip: '127.0.0.1', protocol: 'tcp' });
    expect(compose(parse(files.get('compose.yaml')!)), problems(compose)).toBe(true);
  });
});
