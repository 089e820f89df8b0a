import { z } from 'zod';
import { byteSize, durationMs, urlWithScheme } from './config-codecs.js';
import { loopbackIfPortOnly } from './listen-text.js';
import { accessRuleSchema, rate, serverRateLimitSchema, toolFilterSchema } from './access-schema.js';
import { isLoopbackHost } from './loopback-host.js';
import { trustedProxy } from './trusted-proxy.js';

/** Server names become URL path segments (`/NAME/mcp`) and, in Docker deployments, subdomains and container names. */
export const SERVER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
export const SERVER_NAME_HINT = 'use 1-32 lowercase letters, digits or dashes, starting and ending with a letter or digit';
/** GitHub's login rule (alphanumerics, single dashes, at most 39) plus `_`, which Enterprise Managed Users and Enterprise Server logins contain. */
export const GITHUB_ORG = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
export const GITHUB_TEAM = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}\/[A-Za-z0-9][A-Za-z0-9_-]*$/;
const DOMAIN_NAME = /^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$/;
/** An allowlist entry: a login (GitHub, local) or, for OpenID Connect, a verified email address or a `sub`. */
// An entry with `@` is an email address to the user policy (runtime/auth/policy/user-policy.ts),
// which needs a dotted domain after the last `@`; subjects therefore contain no `@`.
const ALLOWED_USER =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9_]|-(?=[A-Za-z0-9])){0,38}|[^\s@]{1,64}@(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}|[\x21-\x3F\x41-\x7E]{1,255})$/;
export const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9_]|-(?=[A-Za-z0-9])){0,38}$/;

const duration = durationMs;
const httpUrl = urlWithScheme(/^https?$/);

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Scopes a token needs for this server (RFC 6749 §3.3 scope-tokens). Advertised in its RFC 9728
 * metadata and challenge; a token without them gets 403 insufficient_scope (step-up).
 */
const serverScopes = z
  .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]{1,64}$/, 'a scope is 1-64 printable characters without spaces, quotes or backslashes'))
  .max(20)
  .optional();

/**
 * Per-server bridge limits. Optional with no zod defaults, so a written config stays as short as
 * the user left it; the bridge applies the defaults (listed in the README).
 */
const bridgeLimits = z.strictObject({
  /** Live sessions (each one child process) this server may have at once. */
  maxSessions: z.number().int().min(1).max(100_000).optional(),
  /** Live sessions one user (token subject) may hold on this server. */
  maxSessionsPerUser: z.number().int().min(1).max(100_000).optional(),
  /** A session with no request and no open stream for this long is ended and its child stopped. */
  idleTimeout: duration.optional(),
  /** How long a request waits for the server's answer. */
  requestTimeout: duration.optional(),
  /**
   * Largest message either way: a client's POST body (413 past it), a server's stdout line, JSON
   * answer or SSE event (the request it answers gets a JSON-RPC error). Default 16 MiB.
   */
  maxMessageBytes: z
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .optional(),
  /** Docker deployments: the bridge container's memory limit (`512m`, `1g`); default in cli/deploy/container-limits.ts. */
  memory: byteSize.optional(),
  /** Docker deployments: CPUs the bridge container may use (0.5 = half a core). */
  cpus: z.number().min(0.01).max(1024).optional(),
  /** Docker deployments: most processes and threads the bridge container may have. */
  pids: z.number().int().min(8).max(1_000_000).optional(),
});

/**
 * How a stdio server is confined (runtime/bridge/sandbox/): `on` hides the project directory
 * and makes the rest of the filesystem read-only, `strict` also narrows reads to the system
 * directories, the server's own program and its mounts, `off` runs it as the gateway's own user
 * with nothing hidden (the operator's own risk).
 */
export const SANDBOX_MODES = ['on', 'strict', 'off'] as const;
const sandboxMode = z.enum(SANDBOX_MODES, { message: 'must be on, strict or off' });

/** A host path a sandboxed server may use besides its own data directory; relative paths are relative to the project directory. */
const serverMount = z.strictObject({
  path: z
    .string()
    .min(1, 'must not be empty')
    .refine((path) => !path.includes('\0'), { message: 'must not contain NUL' }),
  readOnly: z.boolean().default(false),
});

/** Who may call what (runtime/access/): every kind of server takes these. */
const accessFields = {
  /** Tools hidden from and refused for everyone (`deny` globs). */
  tools: toolFilterSchema.optional(),
  /** Which users get which tools; without it every allowed user gets every tool not denied. */
  access: z.array(accessRuleSchema).max(100).optional(),
  /** Requests per window per user on this server, and per user per tool. */
  rateLimit: serverRateLimitSchema.optional(),
};

/** Pre-started, pre-initialized children kept ready per server; 0 (the default) turns the pool off. */
const pool = z.number().int().min(0).max(64).optional();

/**
 * Swarm and Kubernetes deployments: how many bridge replicas run this server (default 1). The
 * router sends each 2025 session to the replica that owns it and each 2026-07-28 request to one
 * chosen by user (runtime/router/replicas/). More than one needs `store: redis`.
 */
const replicas = z.number().int().min(1).max(64).optional();

const stdioServer = z.strictObject({
  command: z.string().min(1, 'must not be empty'),
  args: z.array(z.string()).default([]),
  env: z
    .record(z.string(), z.string())
    .default({})
    .refine((env) => Object.keys(env).every((k) => envName.test(k)), { message: 'environment variable names must match [A-Za-z_][A-Za-z0-9_]*' }),
  cwd: z.string().min(1).optional(),
  description: z.string().max(200).optional(),
  scopes: serverScopes,
  pool,
  replicas,
  limits: bridgeLimits.optional(),
  /** Host paths the server may read (and write unless readOnly) inside its sandbox or container. */
  mounts: z.array(serverMount).max(32).optional(),
  /** Overrides the top-level `sandbox` for this server. */
  sandbox: sandboxMode.optional(),
  /** `none`: no network at all (a sandbox without network, a container without egress). Left out: network on. */
  network: z.enum(['default', 'none'], { message: 'must be none (or left out for network access)' }).optional(),
  ...accessFields,
});

/** A server shipped inside this package (the zero-configuration demo); resolved to a command at start. */
const builtinServer = z.strictObject({
  builtin: z.enum(['demo']),
  description: z.string().max(200).optional(),
  scopes: serverScopes,
  pool,
  replicas,
  limits: bridgeLimits.optional(),
  ...accessFields,
});

/** An HTTP header name (RFC 9110 token); the value is a secret in .secrets/servers/NAME.headers.json. */
export const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers the proxy sets itself (framing, the MCP transport's own): a static value would break them. */
export const RESERVED_UPSTREAM_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'content-type',
  'accept',
  'accept-encoding',
  'mcp-session-id',
  'mcp-protocol-version',
  'last-event-id',
  'proxy-authorization',
  'proxy-connection',
]);
const upstreamHeaderName = z
  .string()
  .regex(HEADER_NAME, 'must be an HTTP header name')
  .refine((name) => !RESERVED_UPSTREAM_HEADERS.has(name.toLowerCase()), { message: 'is set by the gateway itself and cannot be configured' });

/**
 * `servers.NAME.oauth`: the remote server has an OAuth authorization server of its own, and each
 * user authorizes it once (runtime/auth/upstream-oauth/): the gateway finds it through the
 * server's RFC 9728 metadata, gets a client there (a client ID metadata document it serves, or
 * dynamic registration, or `clientId` pre-registered by the operator, whose secret, if any, is in
 * .secrets/servers/NAME.oauth-client-secret), sends the user's browser there once as part of the
 * MCP client's authorization, and keeps and refreshes that user's upstream tokens. `true` is the
 * same as `{}`.
 */
export const upstreamOAuthSchema = z.union([
  // No transform to `{}`: the containers' config is this schema encoded back, which a transform cannot be (upstreamOAuthOf reads both).
  z.literal(true),
  z.strictObject({
    /** Scopes asked of the upstream (default: the scopes its metadata lists as supported, if any). */
    scopes: serverScopes,
    /** A client the operator registered at the upstream (when it offers neither CIMD nor dynamic registration). */
    clientId: z
      .string()
      .regex(/^[\x21-\x7E]{1,256}$/, 'a client id is 1-256 printable characters without spaces')
      .optional(),
  }),
]);

/**
 * A remote Streamable HTTP MCP server, proxied behind the gateway's auth. The YAML names the
 * static headers sent upstream; their values are secrets and live in `.secrets/`.
 */
const remoteServer = z.strictObject({
  url: httpUrl,
  headers: z.array(upstreamHeaderName).optional(),
  oauth: upstreamOAuthSchema.optional(),
  description: z.string().max(200).optional(),
  scopes: serverScopes,
  /** Of the limits only the message size applies: the proxy has no children, sessions are the remote server's. */
  limits: bridgeLimits.pick({ maxMessageBytes: true }).optional(),
  replicas,
  ...accessFields,
});

/**
 * One endpoint for several servers (`/NAME/mcp`): their tools, prompts and resources merged under
 * `<member>__<name>`, each call routed to its member under that member's own tools/access/rateLimit
 * (runtime/aggregate/). Its own resource, audience, metadata and consent, like any server.
 */
const aggregateServer = z.strictObject({
  aggregate: z
    .array(z.string().regex(SERVER_NAME, `a member is a server name: ${SERVER_NAME_HINT}`))
    .min(1, 'list at least one member server')
    .max(32),
  description: z.string().max(200).optional(),
  scopes: serverScopes,
});

export const serverSchema = z.union([stdioServer, builtinServer, remoteServer, aggregateServer]);

const githubProvider = z.strictObject({
  type: z.literal('github'),
  /**
   * Absent until a GitHub app is registered (`mcp-gateway github register`); serve, render and
   * up refuse to start without it. The client secret lives in .secrets/github-client-secret.
   */
  clientId: z.string().min(1, 'must not be empty').optional(),
  /** github.com or a GitHub Enterprise Server base URL: web flow at URL/login/oauth/..., REST API at URL/api/v3. */
  url: httpUrl.prefault('https://github.com'),
  /** Members of these organizations may log in (needs the `read:org` scope, asked for automatically). */
  orgs: z.array(z.string().regex(GITHUB_ORG, 'must be a GitHub organization login')).default([]),
  /** Members of these teams (`org/team-slug`) may log in. */
  teams: z.array(z.string().regex(GITHUB_TEAM, 'must be org/team-slug, e.g. acme/platform')).default([]),
});

/** Any OpenID Connect provider (Google, GitLab, Keycloak, Auth0...): discovery, PKCE, id_token checked. Secret in .secrets/oidc-client-secret. */
const oidcProvider = z.strictObject({
  type: z.literal('oidc'),
  issuer: z.url({ protocol: /^https?$/ }),
  clientId: z.string().min(1, 'must not be empty'),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/))
    .refine((scopes) => scopes.includes('openid'), { message: 'must include openid' })
    .default(['openid', 'profile', 'email']),
  /** How the client secret is sent, for providers that accept one method only; no secret file = a public client. */
  tokenEndpointAuthMethod: z.enum(['client_secret_basic', 'client_secret_post']).optional(),
  /** People with a verified address in these domains may log in. */
  emailDomains: z.array(z.string().regex(DOMAIN_NAME, 'must be a domain name such as example.com')).default([]),
});

/** Login with a one-time code printed in the gateway's terminal: for the demo and hosts without a GitHub app. */
const localProvider = z.strictObject({
  type: z.literal('local'),
  user: z.string().regex(GITHUB_LOGIN, 'must look like a login name').default('demo'),
});

const embeddedStore = z.strictObject({
  type: z.literal('embedded'),
  /**
   * The SQLite database, relative to the project directory. A path ending in .json (the JSON-file
   * store of earlier releases) keeps working: that file is imported into a database beside it
   * (runtime/config/store-files.ts).
   */
  path: z.string().min(1).default('.mcp-gateway/store.sqlite'),
});

const redisStore = z.strictObject({
  type: z.literal('redis'),
  /** redis://host:port/db without a password: the password lives in .secrets/redis-password. */
  url: urlWithScheme(/^rediss?$/),
  keyPrefix: z.string().min(1).max(64).default('mcpgw:'),
});

const hostPort = /^(?:\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/;
/** `HOST:PORT`; a port alone (`8080`, or the YAML number) is this host only, as `--listen 8080` is. */
const listenAddress = z.codec(
  z.union([z.string().trim(), z.int().min(0).max(65_535)]),
  z.string().regex(hostPort, 'must be HOST:PORT or a port, e.g. 127.0.0.1:8080 or 8080'),
  { decode: (value) => loopbackIfPortOnly(String(value)), encode: (text) => text },
);

export const configSchema = z
  .strictObject({
    version: z.literal(1).default(1),
    publicUrl: httpUrl,
    listen: listenAddress.optional(),
    provider: z.discriminatedUnion('type', [githubProvider, localProvider, oidcProvider]),
    allowedUsers: z.array(z.string().regex(ALLOWED_USER, 'must be a login, or for OpenID Connect an email address or subject')).default([]),
    /**
     * Who may use the admin page at <publicUrl>/admin/ (runtime/auth/admin/admin-page.ts), in the
     * forms of allowedUsers: logins, or verified email addresses for OpenID Connect. They log in
     * through the provider above; being an admin does not put anyone on the allowlist. Empty: no
     * admin page at all (the admin API for `.secrets/admin-token` is unaffected).
     */
    admins: z.array(z.string().regex(ALLOWED_USER, 'must be a login, or for OpenID Connect an email address or subject')).default([]),
    store: z.discriminatedUnion('type', [embeddedStore, redisStore]).default({ type: 'embedded', path: '.mcp-gateway/store.sqlite' }),
    /*
     * Access tokens last a working day by default: Claude.ai and ChatGPT connectors have refreshed
     * unreliably, and every request is still checked against revocation and the allowlist, so a
     * long-lived access token does not outlive a revoked grant or a removed user.
     */
    tokens: z
      .strictObject({
        accessTokenTtl: duration.prefault('8h'),
        refreshTokenTtl: duration.prefault('30d'),
        /** A rotated refresh token presented again within this window is a lost response, not theft. */
        refreshReuseGrace: duration.prefault('30s'),
      })
      .prefault({}),
    /** Dynamic registration: Claude re-registers on every fresh connection, so unused clients are forgotten. */
    clients: z
      .strictObject({
        /** A client registered but never used to obtain a token is removed after this. */
        unusedTtl: duration.prefault('24h'),
        /** A client that obtained tokens is removed after this long without using the token endpoint. */
        idleTtl: duration.prefault('90d'),
        /** Registrations allowed per source address per 10 minutes. */
        registrationsPer10Min: z.number().int().min(1).max(10_000).default(30),
        /** Accept https client_ids that name a Client ID Metadata Document (CIMD). */
        metadataDocuments: z.boolean().default(true),
        /** Let metadata documents live on loopback/private addresses (tests, private networks); off by default against SSRF. */
        allowPrivateMetadataHosts: z.boolean().default(false),
      })
      .prefault({}),
    /** How requests find servers and, for `mcp-gateway up`, what the Docker deployment looks like. */
    deploy: z
      .strictObject({
        /** `path`: <publicUrl>/NAME/mcp. `subdomain`: https://NAME.<domain>/mcp, metadata served on every subdomain. */
        routing: z.enum(['path', 'subdomain']).default('path'),
        /** Base domain of the subdomain style (servers at NAME.<domain>); defaults to the public URL's host. */
        domain: z
          .string()
          .regex(/^(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9-]{1,63}$/, 'must be a domain name')
          .optional(),
        /** Let's Encrypt account e-mail (Traefik's HTTP-01 resolver). */
        email: z.email().optional(),
        /** `traefik` (HTTPS with Let's Encrypt) or `builtin` (our router; plain HTTP, for hosts behind another TLS proxy or without Traefik). */
        router: z.enum(['traefik', 'builtin']).default('traefik'),
        /** Docker project name: prefixes containers, network and volumes, and labels them. */
        project: z
          .string()
          .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lowercase letters, digits, - and _')
          .optional(),
        /** Base images of the runtime images (hosts without a registry build their own). */
        nodeImage: z.string().min(1).default('node:20-bookworm-slim'),
        pythonImage: z.string().min(1).default('python:3.12-slim'),
        redisImage: z.string().min(1).default('redis:7-alpine'),
        traefikImage: z.string().min(1).default('traefik:v3.3'),
        /** Host ports of the router: 80/443 for Traefik; the builtin router publishes `http` only. */
        httpPort: z.number().int().min(1).max(65535).default(80),
        httpsPort: z.number().int().min(1).max(65535).default(443),
        /** Host address the router's ports are published on. */
        bind: z.string().min(1).default('0.0.0.0'),
        /** Traefik dashboard and insecure API: off unless asked for. */
        dashboard: z.boolean().default(false),
        /** Swarm and Kubernetes deployments: replicas of the auth runtime and of the built-in router (default 1 each). More than one needs `store: redis`. */
        replicas: z
          .strictObject({
            auth: z.number().int().min(1).max(64).optional(),
            router: z.number().int().min(1).max(64).optional(),
          })
          .optional(),
        /**
         * Swarm and Kubernetes deployments: a bridge replica being replaced (rolling update, scale
         * down) takes no new session and keeps serving its own for this long before ending them.
         */
        drainPeriod: duration.prefault('30s'),
      })
      .prefault({}),
    servers: z.record(z.string(), serverSchema).default({}),
    /** How stdio servers are confined in `serve` unless a server says otherwise (`servers.NAME.sandbox`). */
    sandbox: sandboxMode.default('on'),
    /** On SIGTERM, requests in flight get this long to finish (new ones get 503) before sessions end. */
    shutdownGrace: duration.prefault('10s'),
    /**
     * Origins (scheme://host[:port]) besides publicUrl's own whose browser requests the MCP
     * endpoints accept; any other Origin header gets 403 (DNS-rebinding protection).
     */
    allowedOrigins: z.array(httpUrl).optional(),
    /**
     * Proxies in front of the gateway whose X-Forwarded-For is believed (IP addresses and CIDR
     * ranges): the TLS proxy in front of `serve`, a load balancer in front of Traefik, the Ingress
     * controller's pods in Kubernetes. Without it a proxy's address is every client's, in the
     * per-address rate limits and the audit lines.
     */
    trustedProxies: z.array(trustedProxy).max(64).optional(),
    /** Limits for every server unless it sets its own (`servers.NAME.rateLimit.perUser`); off by default. */
    rateLimit: z.strictObject({ perUser: rate.optional() }).optional(),
    /** The `tool_call` audit lines (one per tools/call): arguments and results only when asked for. */
    audit: z.strictObject({ toolArguments: z.boolean().optional() }).optional(),
    /**
     * Prometheus metrics: always at GET <publicUrl>/metrics for the admin token; `listen` adds a
     * listener of their own without authentication (an internal address: 127.0.0.1:9464).
     */
    metrics: z.strictObject({ listen: listenAddress.optional() }).optional(),
  })
  .superRefine((config, ctx) => {
    // zod runs this even when a field failed: only fields that parsed are checked here.
    if (!(config.publicUrl instanceof URL)) return;
    const url = config.publicUrl;
    if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
      ctx.addIssue({ code: 'custom', path: ['publicUrl'], message: 'must be an origin without path, query or fragment (e.g. https://mcp.example.com)' });
    }
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
      ctx.addIssue({
        code: 'custom',
        path: ['publicUrl'],
        message:
          'must use https unless the host is loopback (OAuth 2.1 requires TLS for remote clients); terminate TLS in front of the gateway and set publicUrl to the https URL',
      });
    }
    for (const [name, server] of Object.entries(config.servers)) {
      if (!SERVER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['servers', name], message: `invalid server name: ${SERVER_NAME_HINT}` });
      if ('aggregate' in server) checkAggregate(config.servers, name, server.aggregate, ctx);
      for (const [index, rule] of ('aggregate' in server ? [] : (server.access ?? [])).entries()) {
        const at = (key: string): (string | number)[] => ['servers', name, 'access', index, key];
        if (config.provider.type !== 'github') {
          for (const key of ['orgs', 'teams'] as const) {
            if (rule[key]?.length) {
              ctx.addIssue({
                code: 'custom',
                path: at(key),
                message: `GitHub ${key} are known only with provider.type: github (this gateway logs in with ${config.provider.type}); name users${config.provider.type === 'oidc' ? ' or emailDomains' : ''} instead`,
              });
            }
          }
        }
        if (config.provider.type !== 'oidc' && rule.emailDomains?.length) {
          ctx.addIssue({
            code: 'custom',
            path: at('emailDomains'),
            message: `verified email addresses come only from provider.type: oidc (this gateway logs in with ${config.provider.type}); name users${config.provider.type === 'github' ? ', orgs or teams' : ''} instead`,
          });
        }
      }
      // The static headers (an API key, usually) would cross the network in clear text.
      if ('url' in server && server.url instanceof URL && server.url.protocol === 'http:' && !isLoopbackHost(server.url.hostname)) {
        ctx.addIssue({ code: 'custom', path: ['servers', name, 'url'], message: 'must use https unless the host is loopback' });
      }
      // With oauth the gateway sends each user's own upstream token as Authorization.
      if ('url' in server && server.oauth !== undefined && (server.headers ?? []).some((header) => header.toLowerCase() === 'authorization')) {
        ctx.addIssue({
          code: 'custom',
          path: ['servers', name, 'headers'],
          message: "Authorization is the user's own upstream token with oauth; remove it from headers (or remove oauth to send a static one)",
        });
      }
    }
    for (const [index, url] of (config.allowedOrigins ?? []).entries()) {
      if (!(url instanceof URL)) continue;
      if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
        ctx.addIssue({
          code: 'custom',
          path: ['allowedOrigins', index],
          message: 'must be an origin without path, query or fragment (e.g. https://app.example.com)',
        });
      }
    }
    checkReplicas(config, ctx);
    const provider = config.provider;
    if (provider.type === 'local' && !config.allowedUsers.some((u) => u.toLowerCase() === provider.user.toLowerCase())) {
      ctx.addIssue({
        code: 'custom',
        path: ['provider', 'user'],
        message: `${provider.user} logs in with the one-time code but is not in allowedUsers; add it there`,
      });
    }
    // A malformed issuer was already reported by z.url (a format issue does not stop this refinement).
    if (provider.type === 'oidc' && URL.canParse(provider.issuer)) {
      const issuer = new URL(provider.issuer);
      if (issuer.protocol === 'http:' && !isLoopbackHost(issuer.hostname)) {
        ctx.addIssue({ code: 'custom', path: ['provider', 'issuer'], message: 'must use https (http only for a provider on loopback)' });
      }
    }
    const groupRules = provider.type === 'github' ? provider.orgs.length + provider.teams.length : provider.type === 'oidc' ? provider.emailDomains.length : 0;
    if (config.allowedUsers.length === 0 && groupRules === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['allowedUsers'],
        message: 'is empty, so nobody could log in: add at least one login (mcp-gateway init --allowed-users alice,bob), or provider.orgs/teams/emailDomains',
      });
    }
  });

export type GatewayConfigInput = z.input<typeof configSchema>;

/**
 * More than one replica of anything shares what one process keeps (users' grants, pending
 * authorizations, rate-limit counters, refresh rotation) through the store: the embedded SQLite
 * file is one host's, so it is refused rather than split.
 */
function checkReplicas(config: Pick<GatewayConfig, 'store' | 'deploy' | 'servers'>, ctx: z.RefinementCtx): void {
  if (config.store?.type === 'redis') return;
  for (const { path, count } of replicaCountsAboveOne(config)) {
    ctx.addIssue({
      code: 'custom',
      path,
      message: `is ${count}, and more than one replica needs store: redis (replicas share grants, pending authorizations and rate limits through it; the embedded store is one host's file); set store: { type: redis, url: redis://HOST:6379/0 } or use 1`,
    });
  }
}

/** Every replica count above 1 the config sets (deploy.replicas.auth/router, servers.NAME.replicas), with its key's path. */
export function replicaCountsAboveOne(config: Pick<GatewayConfig, 'deploy' | 'servers'>): Array<{ path: string[]; count: number }> {
  const counts: Array<{ path: string[]; count: number | undefined }> = [
    { path: ['deploy', 'replicas', 'auth'], count: config.deploy?.replicas?.auth },
    { path: ['deploy', 'replicas', 'router'], count: config.deploy?.replicas?.router },
    ...Object.entries(config.servers ?? {}).map(([name, server]) => ({
      path: ['servers', name, 'replicas'],
      count: 'replicas' in server ? server.replicas : undefined,
    })),
  ];
  return counts.filter((entry): entry is { path: string[]; count: number } => entry.count !== undefined && entry.count > 1);
}
export type GatewayConfig = z.output<typeof configSchema>;
export type ServerConfig = z.output<typeof serverSchema>;
export type ServerConfigInput = z.input<typeof serverSchema>;
export type StdioServerConfig = z.output<typeof stdioServer>;
export type RemoteServerConfig = z.output<typeof remoteServer>;

/** servers.NAME.oauth as one shape (`true` is `{}`), or undefined for a server without it. */
export function upstreamOAuthOf(server: RemoteServerConfig): { scopes?: string[] | undefined; clientId?: string | undefined } | undefined {
  return server.oauth === true ? {} : server.oauth;
}
export type AggregateServerConfig = z.output<typeof aggregateServer>;
/** A server the gateway runs or proxies itself (not an aggregate of others). */
export type MemberServerConfig = Exclude<ServerConfig, AggregateServerConfig>;
export type BridgeLimitsConfig = z.output<typeof bridgeLimits>;
export type SandboxMode = (typeof SANDBOX_MODES)[number];
export type ServerMountConfig = z.output<typeof serverMount>;
export type ProviderConfig = GatewayConfig['provider'];
export type GitHubProviderConfig = Extract<ProviderConfig, { type: 'github' }>;
export type StoreConfig = GatewayConfig['store'];

export { isLoopbackHost } from './loopback-host.js';

/** An aggregate's members: configured servers, not aggregates themselves, named once, and no remote one with secret headers. */
function checkAggregate(servers: Record<string, z.output<typeof serverSchema>>, name: string, members: readonly string[], ctx: z.RefinementCtx): void {
  const seen = new Set<string>();
  for (const [index, member] of members.entries()) {
    const path = ['servers', name, 'aggregate', index];
    const server = Object.hasOwn(servers, member) ? servers[member] : undefined;
    if (seen.has(member)) ctx.addIssue({ code: 'custom', path, message: `${member} is listed twice` });
    seen.add(member);
    if (member === name) ctx.addIssue({ code: 'custom', path, message: 'an aggregate cannot list itself' });
    else if (server === undefined) {
      const known = Object.keys(servers).filter((other) => other !== name && !('aggregate' in servers[other]!));
      ctx.addIssue({ code: 'custom', path, message: `no server named ${member}${known.length > 0 ? ` (servers: ${known.join(', ')})` : ''}` });
    } else if ('aggregate' in server) {
      ctx.addIssue({ code: 'custom', path, message: `${member} is an aggregate itself; list its members instead (${server.aggregate.join(', ')})` });
    } else if ('url' in server && server.oauth !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${member} uses each user's own upstream OAuth token, which an aggregate's process does not get; serve it on its own endpoint (/${member}/mcp)`,
      });
    } else if ('url' in server && (server.headers?.length ?? 0) > 0) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `${member} sends secret headers upstream, which an aggregate's process would have to hold; serve it on its own endpoint (/${member}/mcp)`,
      });
    }
  }
}
