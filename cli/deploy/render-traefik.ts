import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import type { GatewayConfig } from '../../runtime/config/schema.js';
import {
  AUTH_URL,
  CLIENT_CREDENTIAL_HEADERS,
  IDENTITY_HEADER_NAMES,
  MCP_CORS,
  OAUTH_CORS,
  RUNTIME_PORT,
  verifyUrl,
  type CorsPolicy,
} from '../../runtime/http/edge-contract.js';
import type { DeployPlan } from './deploy-plan.js';
import type { DeployTemplates } from './deploy-templates.js';
import { mergeDocuments, parseRendered, toYamlText } from './merge-documents.js';
import { renderTemplate, type TemplateValue } from './render-template.js';
import { allOf, anyOf, host, mcpEndpoint, path, pathPrefix } from './traefik-rules.js';

/** Where Traefik reaches a runtime: compose service name on the project network, the runtimes' port. */
export function serviceUrl(service: string): string {
  return `http://${service}:${RUNTIME_PORT}`;
}

/** A CORS policy of the edge contract as Traefik's headers middleware spells it (doc.traefik.io, middlewares/http/headers). */
export function traefikCorsHeaders(policy: CorsPolicy): Record<string, TemplateValue> {
  return {
    accessControlAllowOriginList: [policy.allowOrigin],
    accessControlAllowMethods: policy.allowMethods,
    accessControlAllowHeaders: policy.allowHeaders,
    ...(policy.exposeHeaders.length > 0 ? { accessControlExposeHeaders: policy.exposeHeaders } : {}),
    accessControlMaxAge: policy.maxAgeSeconds,
  };
}

/**
 * The values of dynamic.yml that are the edge contract (runtime/http/edge-contract.ts), not
 * this deployment's: the built-in router applies the same ones.
 */
function edgeContractValues(): Record<string, TemplateValue> {
  return {
    verifyUrl: verifyUrl(AUTH_URL),
    authUrl: AUTH_URL,
    identityHeaders: IDENTITY_HEADER_NAMES,
    // An empty value removes the header (Traefik's headers middleware, customRequestHeaders).
    clientCredentialHeaders: Object.fromEntries(CLIENT_CREDENTIAL_HEADERS.map((name) => [name, ''])),
    mcpCors: traefikCorsHeaders(MCP_CORS),
    oauthCors: traefikCorsHeaders(OAUTH_CORS),
  };
}

/** traefik/traefik.yml: entry points, Let's Encrypt, providers, dashboard off unless asked for. */
export function renderTraefikStatic(config: GatewayConfig, plan: DeployPlan, templates: DeployTemplates): string {
  const { source, text } = templates.traefikStatic;
  const { email, httpsPort, dashboard } = config.deploy;
  if (email === undefined) throw new TypeError('planDeployment refuses router: traefik without deploy.email');
  const values = {
    // An entry point name redirects to its own port (443 in the container); a published port
    // other than 443 needs the redirect to name the port clients actually reach.
    httpsRedirect: httpsPort === 443 ? 'websecure' : `:${httpsPort}`,
    email,
    network: plan.network,
    dashboard,
  };
  const doc = parseRendered(renderTemplate(text, values, { format: 'yaml', source }), source);
  // A load balancer in front of Traefik (trustedProxies): Traefik keeps the client's address it
  // forwards, appends the balancer's, and the auth runtime walks back past it. Otherwise Traefik
  // replaces every X-Forwarded-For with the address it was reached from.
  const trusted = config.trustedProxies ?? [];
  if (trusted.length > 0) {
    for (const entryPoint of ['web', 'websecure']) doc.setIn(['entryPoints', entryPoint, 'forwardedHeaders'], doc.createNode({ trustedIPs: trusted }));
  }
  return toYamlText(doc);
}

/**
 * traefik/dynamic.yml: the OAuth routes on the issuer's host, then each server's MCP route (and,
 * in the subdomain style, its well-known route) from the per-server fragment. Hosts and paths
 * come from gatewayUrls, the same place the auth runtime's metadata and /verify take them from.
 */
export function renderTraefikDynamic(config: GatewayConfig, plan: DeployPlan, templates: DeployTemplates): string {
  const urls = gatewayUrls(config);
  const issuerHost = new URL(urls.issuer).hostname;
  const onIssuer = (...rules: string[]): string => allOf(host(issuerHost), anyOf(...rules));
  const base = templates.traefikDynamic;
  const doc = parseRendered(
    renderTemplate(
      base.text,
      {
        wellKnownRule: onIssuer(pathPrefix('/.well-known/')),
        registerRule: onIssuer(path('/register')),
        tokenRule: onIssuer(path('/token')),
        apiRule: onIssuer(pathPrefix('/register/'), path('/revoke'), path('/introspect'), path('/jwks.json'), path('/health')),
        pagesRule: onIssuer(
          path('/authorize'),
          path('/callback'),
          path('/consent'),
          path('/login/local'),
          path('/upstream/callback'),
          pathPrefix('/upstream/connect/'),
        ),
        // The admin API and page, and GET /metrics (admin token; scrapers use the metrics port instead).
        adminRule: onIssuer(pathPrefix('/admin/'), path('/metrics')),
        registrationsPer10Min: config.clients.registrationsPer10Min,
        ...edgeContractValues(),
      },
      { format: 'yaml', source: base.source },
    ),
    base.source,
  );

  const fragment = urls.routing === 'subdomain' ? templates.traefikServerSubdomain : templates.traefikServerPath;
  for (const bridge of plan.bridges) {
    const endpoint = new URL(urls.resourceFor(bridge.server));
    const values = {
      router: `mcp-${bridge.server}`,
      rule: mcpEndpoint(endpoint.hostname, endpoint.pathname),
      service: bridge.service,
      url: serviceUrl(bridge.service),
      ...(urls.routing === 'subdomain'
        ? { wellKnownRouter: `wellknown-${bridge.server}`, wellKnownRule: allOf(host(endpoint.hostname), pathPrefix('/.well-known/')) }
        : {}),
    };
    mergeDocuments(doc, parseRendered(renderTemplate(fragment.text, values, { format: 'yaml', source: fragment.source }), fragment.source), fragment.source);
  }
  return toYamlText(doc);
}
