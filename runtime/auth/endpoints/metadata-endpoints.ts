import type { Request, Response } from 'express';
import type { AuthContext } from '../auth-context.js';
import { scopesForResource } from '../policy/server-scopes.js';

const CLIENT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'];

/** RFC 8414 §2. Served at /.well-known/oauth-authorization-server and /.well-known/openid-configuration. */
export function authorizationServerMetadata(ctx: AuthContext): Record<string, unknown> {
  const { urls } = ctx;
  const scopes = [...new Set(urls.serverNames.flatMap((name) => scopesForResource(ctx, urls.resourceFor(name))))];
  return {
    issuer: urls.issuer,
    authorization_endpoint: urls.authorizationEndpoint,
    token_endpoint: urls.tokenEndpoint,
    registration_endpoint: urls.registrationEndpoint,
    revocation_endpoint: urls.revocationEndpoint,
    introspection_endpoint: urls.introspectionEndpoint,
    jwks_uri: urls.jwksUri,
    ...(scopes.length === 0 ? {} : { scopes_supported: scopes }),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: ctx.config.clients.metadataDocuments,
    service_documentation: 'https://www.npmjs.com/package/mcp-gateway',
  };
}

/** RFC 9728 §2 for one MCP endpoint: `resource` is exactly the endpoint URL. */
export function protectedResourceMetadata(ctx: AuthContext, server: string): Record<string, unknown> {
  const scopes = scopesForResource(ctx, ctx.urls.resourceFor(server));
  return {
    resource: ctx.urls.resourceFor(server),
    authorization_servers: [ctx.urls.issuer],
    ...(scopes.length === 0 ? {} : { scopes_supported: scopes }),
    bearer_methods_supported: ['header'],
    resource_name: `${server} (mcp-gateway)`,
  };
}

function sendJson(res: Response, body: unknown): void {
  res.status(200).set({ 'Cache-Control': 'public, max-age=300', 'Access-Control-Allow-Origin': '*' }).json(body);
}

export function metadataEndpoints(ctx: AuthContext) {
  return {
    authorizationServer(_req: Request, res: Response): void {
      sendJson(res, authorizationServerMetadata(ctx));
    },
    jwks(_req: Request, res: Response): void {
      sendJson(res, ctx.keys.jwks);
    },
    /** Path-suffixed form (RFC 9728 §3.1): /.well-known/oauth-protected-resource/NAME/mcp. */
    protectedResourceForPath(req: Request, res: Response): void {
      const suffix = req.path.slice('/.well-known/oauth-protected-resource'.length);
      const server = ctx.urls.serverForRequest(req.get('host'), suffix);
      if (server === undefined) {
        res.status(404).json({
          error: 'not_found',
          error_description: `no MCP server at ${suffix.slice(0, 100)}; servers: ${ctx.urls.serverNames.map((n) => `/${n}/mcp`).join(', ')}`,
        });
        return;
      }
      sendJson(res, protectedResourceMetadata(ctx, server));
    },
    /**
     * Root form. A path-per-server gateway has one resource per path, so the root can only name
     * a resource when there is exactly one server; clients follow the path-suffixed URL that the
     * 401 challenge names (MCP authorization spec), so this is only their last fallback.
     */
    protectedResourceRoot(req: Request, res: Response): void {
      // Subdomain style: each server's host serves its own root document (RFC 9728 §3).
      const only = ctx.urls.serverForHost(req.get('host')) ?? (ctx.urls.serverNames.length === 1 ? ctx.urls.serverNames[0] : undefined);
      if (only === undefined) {
        res.status(404).json({
          error: 'not_found',
          error_description: `this gateway serves several resources; use the path-suffixed metadata: ${ctx.urls.serverNames.map(ctx.urls.protectedResourceMetadataFor).join(', ')}`,
        });
        return;
      }
      sendJson(res, protectedResourceMetadata(ctx, only));
    },
  };
}
