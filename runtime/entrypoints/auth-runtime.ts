import { dirname } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createAuthHandler } from '../auth/auth-app.js';
import { type AuthDeps, createAuthContext } from '../auth/auth-context.js';
import { keySetFromJson } from '../auth/tokens/signing-keys.js';
import { createUpstreamLogin } from '../auth/upstream/create-upstream-login.js';
import { ADMIN_TOKEN_PATTERN } from '../config/admin-token.js';
import { projectPaths } from '../config/project-paths.js';
import { GatewayError } from '../errors.js';
import type { ListenAddress } from '../http/listen-address.js';
import type { Logger } from '../logger.js';
import { createStore } from '../store/create-store.js';
import { isHealthRequest, replyHealth, serveRuntime, type RunningRuntime } from './http-runtime.js';
import { sendContinue } from '../http/expect-continue.js';
import { isVerifyPath } from '../auth/endpoints/verify-endpoint.js';
import { loadRuntimeConfig, runtimeListen, secretReader, type RuntimeEnv } from './runtime-env.js';
import { startRuntimeMetrics, type RuntimeMetrics } from './runtime-metrics.js';
import { createRequestVerifier } from '../auth/tokens/verify-request.js';
import { meteredStore } from '../metrics/metered-store.js';
import { routeOfPath } from '../metrics/http-routes.js';
import { verifierWithMetrics } from '../metrics/verify-decisions.js';

/** What the auth container's context is made of: its keys are reloaded by restarting the container, not in place. */
export type AuthRuntimeDeps = Omit<AuthDeps, 'loadKeys' | 'metrics'> & {
  /** Counts this container's requests and decisions (MCPGW_METRICS_LISTEN); closed with the runtime. */
  runtimeMetrics?: RuntimeMetrics;
};

/** A health check must answer before the 2 s of `runtime healthcheck`, even while Redis hangs. */
const STORE_PING_BOUND_MS = 1_500;

/**
 * The auth container: the authorization server (createAuthApp) and ForwardAuth `/verify` on
 * its own port, behind Traefik or the built-in router. `/health` answers 503 while the store
 * is unreachable, so neither Docker nor the router sends logins to an auth runtime that would
 * fail them. The store is closed with the runtime.
 */
export async function startAuthRuntime(deps: AuthRuntimeDeps, listen: ListenAddress): Promise<RunningRuntime> {
  const { logger, runtimeMetrics } = deps;
  const metrics = runtimeMetrics?.metrics;
  const store = metrics === undefined ? deps.store : meteredStore(deps.store, metrics);
  const ctx = createAuthContext({ ...deps, store, ...(metrics === undefined ? {} : { metrics }) });
  // Always exactly one proxy in front (Traefik or the router), which sets X-Forwarded-For:
  // without trusting it every client would share the proxy's address in the registration rate
  // limit. Past it, the operator's trustedProxies (a load balancer in front of Traefik).
  const verify = createRequestVerifier(ctx);
  const authHandler = createAuthHandler(ctx, {
    trustedHops: 1,
    trustedProxies: deps.config.trustedProxies,
    verify: metrics === undefined ? verify : verifierWithMetrics(verify, metrics),
  });

  function health(res: ServerResponse): void {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${STORE_PING_BOUND_MS} ms`)), STORE_PING_BOUND_MS);
    });
    Promise.race([store.ping(), bound])
      .then(
        () => replyHealth(res, true, {}),
        (err: unknown) => {
          logger.warn({ event: 'health_failed', err: (err as Error).message }, 'store unreachable');
          replyHealth(res, false, { reason: 'store unreachable' });
        },
      )
      .finally(() => clearTimeout(timer));
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    // /verify never reads a body: an MCP request sent here (not through the router) gets its
    // 401 without `100 Continue`, as at the router. The OAuth endpoints read theirs (32 KB at most).
    if (!isVerifyPath(req.url)) sendContinue(req, res);
    if (isHealthRequest(req)) health(res);
    else authHandler(req, res);
  };
  return serveRuntime(
    'auth',
    runtimeMetrics === undefined ? handler : runtimeMetrics.meter(handler, (req) => routeOfPath((req.url ?? '/').split('?', 1)[0]!)),
    listen,
    {
      logger,
      cleanup: async () => {
        await store.close();
        runtimeMetrics?.close();
      },
      deferContinue: true,
    },
  );
}

export interface AuthRuntimeEnvOptions {
  env: RuntimeEnv;
  logger: Logger;
  /** Docker secrets directory (default /run/secrets). */
  secretsDir?: string;
  fetch?: typeof fetch;
}

/**
 * `mcp-gateway runtime auth`: the config from MCPGW_CONFIG, the secrets from the env file
 * (signing keys, state key, Redis password, the provider's client secret), the store the
 * config names (Redis in containers), then startAuthRuntime on MCPGW_LISTEN.
 */
export async function startAuthRuntimeFromEnv({ env, logger, secretsDir, fetch: fetchImpl }: AuthRuntimeEnvOptions): Promise<RunningRuntime> {
  const { config, path } = await loadRuntimeConfig(env);
  const listen = runtimeListen(env);
  const secrets = secretReader(env, secretsDir);
  const keys = await keySetFromJson(await secrets.required('MCPGW_SIGNING_KEYS', 'the token signing keys'), {
    hint: 'MCPGW_SIGNING_KEYS holds the content of .secrets/signing-keys.json; render the deploy folder again (mcp-gateway render)',
  });
  const stateKey = readStateKey(await secrets.optional('MCPGW_STATE_KEY'), logger, config.store.type === 'redis');
  const adminToken = readAdminToken(await secrets.optional('MCPGW_ADMIN_TOKEN'), logger);
  const provider = config.provider;
  const clientSecret =
    provider.type === 'github'
      ? await secrets.required('MCPGW_GITHUB_CLIENT_SECRET', 'the GitHub client secret')
      : provider.type === 'oidc'
        ? await secrets.optional('MCPGW_OIDC_CLIENT_SECRET')
        : undefined;
  const redisPassword = config.store.type === 'redis' ? await secrets.optional('MCPGW_REDIS_PASSWORD') : undefined;
  const upstreamClientSecrets = upstreamClientSecretsOf(await secrets.optional('MCPGW_UPSTREAM_OAUTH_SECRETS'));
  // An embedded store (unusual in a container) lives next to the config file.
  const store = await createStore(config.store, projectPaths(dirname(path)), { logger, ...(redisPassword ? { redisPassword } : {}) });
  try {
    const upstream = await createUpstreamLogin(config, {
      store,
      clientSecret,
      // No terminal in a container: the operator reads the code with `mcp-gateway logs auth`.
      announceLoginCode: ({ code, clientName, user }) =>
        logger.warn(
          { event: 'local_login_code', code, clientName, user },
          `login requested by ${clientName} for ${user}: one-time code ${code} (valid 10 minutes)`,
        ),
      ...(fetchImpl ? { fetch: fetchImpl } : {}),
    });
    const runtimeMetrics = await startRuntimeMetrics(env, logger);
    try {
      return await startAuthRuntime(
        {
          config,
          store,
          keys,
          upstream,
          logger,
          runtimeMetrics,
          upstreamClientSecrets,
          // compose with `router: traefik` (templates/compose/router-traefik.yml): ForwardAuth reports no upstream refusal.
          upstreamRefusalsUnreported: upstreamRefusalsOf(env),
          ...(stateKey ? { stateKey } : {}),
          ...(adminToken ? { adminToken } : {}),
        },
        listen,
      );
    } catch (err) {
      runtimeMetrics.close();
      throw err;
    }
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** MCPGW_ADMIN_TOKEN (.secrets/admin-token): optional, but a value that is there must be a real token. */
function readAdminToken(text: string | undefined, logger: Logger): string | undefined {
  if (text === undefined) {
    logger.info(
      { event: 'admin_api_disabled' },
      'MCPGW_ADMIN_TOKEN is not set: no admin API (mcp-gateway clients/tokens reach this deployment only after render and up again)',
    );
    return undefined;
  }
  if (!ADMIN_TOKEN_PATTERN.test(text)) {
    throw new GatewayError('ERR_KEYS_INVALID', 'MCPGW_ADMIN_TOKEN does not hold an admin token (43 or more base64url characters)', {
      hint: 'it is the content of .secrets/admin-token; render the deploy folder again (mcp-gateway render)',
    });
  }
  return text;
}

function readStateKey(text: string | undefined, logger: Logger, sharedStore: boolean): Uint8Array | undefined {
  if (text === undefined && sharedStore) {
    // Each replica would seal with a random key of its own: another replica could not open what it sealed.
    throw new GatewayError(
      'ERR_KEYS_INVALID',
      "MCPGW_STATE_KEY is not set, and with store: redis auth replicas share one store: each would seal upstream credentials (remote servers' tokens, GitHub tokens for org checks) with a key of its own that the others cannot open",
      { hint: 'set it to the content of .secrets/state-key (mcp-gateway render puts it in deploy/secrets/auth.env)' },
    );
  }
  if (text === undefined) {
    logger.warn(
      { event: 'state_key_missing' },
      'MCPGW_STATE_KEY is not set: upstream credentials sealed now cannot be read after a restart (users admitted by org/team membership log in again)',
    );
    return undefined;
  }
  const key = Buffer.from(text, 'base64url');
  if (key.length !== 32) {
    throw new GatewayError('ERR_KEYS_INVALID', 'MCPGW_STATE_KEY does not hold a 32-byte key (base64url)', {
      hint: 'it is the content of .secrets/state-key; render the deploy folder again (mcp-gateway render)',
    });
  }
  return key;
}

/** MCPGW_UPSTREAM_OAUTH_SECRETS: `{ "<server>": "<client secret>" }` of clients pre-registered at remote servers' own authorization servers. */
function upstreamClientSecretsOf(text: string | undefined): Map<string, string> {
  if (text === undefined || text.trim() === '') return new Map();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.values(parsed).every((value) => typeof value === 'string')) {
    throw new GatewayError('ERR_CONFIG_INVALID', 'MCPGW_UPSTREAM_OAUTH_SECRETS must hold a JSON object of server names and client secrets', {
      hint: 'render the deploy folder again (mcp-gateway render); it writes this from .secrets/servers/NAME.oauth-client-secret',
    });
  }
  return new Map(Object.entries(parsed as Record<string, string>));
}

/** MCPGW_UPSTREAM_REFUSALS: `unreported` where no router reports a remote server's refusal of a user's token, `reported` (the default) otherwise. */
function upstreamRefusalsOf(env: RuntimeEnv): boolean {
  const value = env['MCPGW_UPSTREAM_REFUSALS'];
  if (value === undefined || value === '' || value === 'reported') return false;
  if (value === 'unreported') return true;
  throw new GatewayError('ERR_CONFIG_INVALID', `MCPGW_UPSTREAM_REFUSALS must be reported or unreported, not ${JSON.stringify(value.slice(0, 40))}`, {
    hint: 'render the deploy folder again (mcp-gateway render): it sets this for compose with router: traefik',
  });
}
