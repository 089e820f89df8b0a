import { z } from 'zod';
import { parseDuration, DURATION_HINT } from './duration.js';

/** Server names become URL path segments (`/NAME/mcp`) and, in Docker deployments, subdomains and container names. */
export const SERVER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const SERVER_NAME_HINT = 'use 1-32 lowercase letters, digits or dashes, starting and ending with a letter or digit';
/** GitHub's login rule (alphanumerics, single dashes, at most 39) plus `_`, which Enterprise Managed Users and Enterprise Server logins contain. */
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9_]|-(?=[A-Za-z0-9])){0,38}$/;

const duration = z.string().refine((text) => parseDuration(text) !== undefined, { message: `not a duration: ${DURATION_HINT}` });

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

const stdioServer = z.strictObject({
  command: z.string().min(1, 'must not be empty'),
  args: z.array(z.string()).default([]),
  env: z
    .record(z.string(), z.string())
    .default({})
    .refine((env) => Object.keys(env).every((k) => envName.test(k)), { message: 'environment variable names must match [A-Za-z_][A-Za-z0-9_]*' }),
  cwd: z.string().min(1).optional(),
  description: z.string().max(200).optional(),
});

/** A server shipped inside this package (the zero-configuration demo); resolved to a command at start. */
const builtinServer = z.strictObject({
  builtin: z.enum(['demo']),
  description: z.string().max(200).optional(),
});

export const serverSchema = z.union([stdioServer, builtinServer]);

const githubProvider = z.strictObject({
  type: z.literal('github'),
  clientId: z.string().min(1, 'must not be empty'),
  /** github.com or a GitHub Enterprise Server base URL: web flow at URL/login/oauth/..., REST API at URL/api/v3. */
  url: z.url({ protocol: /^https?$/ }).default('https://github.com'),
});

/** Login with a one-time code printed in the gateway's terminal: for the demo and hosts without a GitHub app. */
const localProvider = z.strictObject({
  type: z.literal('local'),
  user: z.string().regex(GITHUB_LOGIN, 'must look like a login name').default('demo'),
});

const embeddedStore = z.strictObject({
  type: z.literal('embedded'),
  /** Relative to the project directory. */
  path: z.string().min(1).default('.mcp-gateway/state.json'),
});

const redisStore = z.strictObject({
  type: z.literal('redis'),
  /** redis://host:port/db without a password: the password lives in .secrets/redis-password. */
  url: z.url({ protocol: /^rediss?$/ }),
  keyPrefix: z.string().min(1).max(64).default('mcpgw:'),
});

const hostPort = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;

export const configSchema = z
  .strictObject({
    version: z.literal(1).default(1),
    publicUrl: z.url({ protocol: /^https?$/ }),
    listen: z.string().regex(hostPort, 'must be HOST:PORT, e.g. 127.0.0.1:8080').optional(),
    provider: z.discriminatedUnion('type', [githubProvider, localProvider]),
    allowedUsers: z.array(z.string().regex(GITHUB_LOGIN, 'must be a GitHub login (letters, digits, single dashes)')).default([]),
    store: z.discriminatedUnion('type', [embeddedStore, redisStore]).default({ type: 'embedded', path: '.mcp-gateway/state.json' }),
    tokens: z
      .strictObject({
        accessTokenTtl: duration.default('1h'),
        refreshTokenTtl: duration.default('30d'),
      })
      .default({ accessTokenTtl: '1h', refreshTokenTtl: '30d' }),
    servers: z.record(z.string(), serverSchema).default({}),
  })
  .superRefine((config, ctx) => {
    const url = new URL(config.publicUrl);
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
      ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'must be an origin without path, query or fragment (e.g. https://mcp.example.com)' });
    }
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      ctx.addIssue({
        code: 'custom',
        path: ['publicUrl'],
        message: 'must use https unless the host is loopback (OAuth 2.1 requires TLS for remote clients); terminate TLS in front of the gateway and set publicUrl to the https URL',
      });
    }
    for (const name of Object.keys(config.servers)) {
      if (!SERVER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['servers', name], message: `invalid server name: ${SERVER_NAME_HINT}` });
    }
    const provider = config.provider;
    if (provider.type === 'local' && !config.allowedUsers.some((u) => u.toLowerCase() === provider.user.toLowerCase())) {
      ctx.addIssue({ code: 'custom', path: ['provider', 'user'], message: `${provider.user} logs in with the one-time code but is not in allowedUsers; add it there` });
    }
    if (config.allowedUsers.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['allowedUsers'], message: 'is empty, so nobody could log in: add at least one login (mcp-gateway init --allowed-users alice,bob)' });
    }
  });

export type GatewayConfigInput = z.input<typeof configSchema>;
export type GatewayConfig = z.output<typeof configSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
export type StdioServerConfig = z.output<typeof stdioServer>;
export type ProviderConfig = GatewayConfig['provider'];
export type StoreConfig = GatewayConfig['store'];

export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}
