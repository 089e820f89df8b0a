import type { OAuthClientProvider, OAuthDiscoveryState } from '@modelcontextprotocol/client';
import { TestOAuthProvider } from './sdk-oauth-provider.js';

/**
 * TestOAuthProvider for the MCP SDK v2 client (`@modelcontextprotocol/client`): the same browser,
 * registration and tokens in memory, plus what v2 asks of a provider beyond v1. It keeps the
 * discovery state across the redirect, by which v2 binds the code and the PKCE verifier to the
 * authorization server that started the flow (SEP-2352; without it v2 warns that it cannot check
 * that binding), and it hands back the whole callback query, since v2's `finishAuth` checks `iss`
 * (RFC 9207) before it reads the code.
 */
export class TestOAuthProviderV2 extends TestOAuthProvider implements OAuthClientProvider {
  #discovery: OAuthDiscoveryState | undefined;

  saveDiscoveryState(state: OAuthDiscoveryState): void {
    this.#discovery = state;
  }

  discoveryState(): OAuthDiscoveryState | undefined {
    return this.#discovery;
  }

  /** The query the browser was sent back with (`code`, `iss`, `state`); throws with what it saw otherwise. */
  callbackParams(): URLSearchParams {
    this.code();
    return this.lastLogin!.redirectedTo!.searchParams;
  }
}
