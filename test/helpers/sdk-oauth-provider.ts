import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { TestBrowser, type BrowserResult } from './test-browser.js';

/**
 * The MCP SDK's OAuthClientProvider, in memory, for tests: `redirectToAuthorization` drives a
 * TestBrowser through login and consent, exactly as a person would, and keeps where the browser
 * ended (the redirect URI with `code` and `iss`, or an error).
 */
export class TestOAuthProvider implements OAuthClientProvider {
  readonly browser: TestBrowser;
  client: OAuthClientInformationMixed | undefined;
  savedTokens: OAuthTokens | undefined;
  private verifier = '';
  lastLogin: BrowserResult | undefined;
  /** Set to use a Client ID Metadata Document instead of dynamic registration. */
  clientMetadataUrl?: string;

  constructor(
    readonly redirectUri: string,
    /** Plays the person in front of the browser: approves consent, types the one-time code... */
    private readonly interact: (browser: TestBrowser, loginUrl: URL) => Promise<BrowserResult>,
    readonly metadata: Partial<OAuthClientMetadata> = {},
  ) {
    this.browser = new TestBrowser(redirectUri);
  }

  get redirectUrl(): string {
    return this.redirectUri;
  }

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'e2e test client',
      redirect_uris: [this.redirectUri],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      ...this.metadata,
    };
  }

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.client;
  }

  saveClientInformation(info: OAuthClientInformationMixed): void {
    this.client = info;
  }

  tokens(): OAuthTokens | undefined {
    return this.savedTokens;
  }

  saveTokens(tokens: OAuthTokens): void {
    this.savedTokens = tokens;
  }

  async redirectToAuthorization(url: URL): Promise<void> {
    this.lastLogin = await this.interact(this.browser, url);
  }

  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }

  codeVerifier(): string {
    return this.verifier;
  }

  /** The authorization code the browser brought back; throws with what it saw otherwise. */
  code(): string {
    const code = this.lastLogin?.redirectedTo?.searchParams.get('code');
    if (!code)
      throw new Error(
        `no code: ${JSON.stringify({ to: this.lastLogin?.redirectedTo?.href, page: this.lastLogin?.page?.body.slice(0, 300), hops: this.lastLogin?.hops })}`,
      );
    return code;
  }
}

/** Approve the consent page if one is shown. */
export async function approveConsent(browser: TestBrowser, result: BrowserResult, options: { stopAt?: string } = {}): Promise<BrowserResult> {
  if (result.page?.body.includes('name="decision"')) return browser.submitForm(result.page, { decision: 'approve' }, options);
  return result;
}
