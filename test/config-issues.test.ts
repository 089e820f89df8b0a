import { describe, expect, it } from 'vitest';
import { parseConfig } from '../runtime/config/load-config.js';
import { suggestUrl } from '../runtime/config/url-suggestion.js';
import { parseListen } from '../runtime/http/listen-address.js';
import { GatewayError } from '../runtime/errors.js';

/**
 * A hand-edited mcp-gateway.yaml with a mistake: every problem is one line naming the dotted
 * path, a misspelled key gets the closest valid key at that place, and a host written where a
 * URL belongs gets the URL it probably meant.
 */
const BASE = { publicUrl: 'http://127.0.0.1:8080', provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'] };

function problems(raw: Record<string, unknown>): string[] {
  try {
    parseConfig(raw, 'mcp-gateway.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('ERR_CONFIG_INVALID');
    const [first, ...lines] = (err as GatewayError).message.split('\n');
    expect(first).toBe('mcp-gateway.yaml is invalid:');
    return lines.map((line) => line.trim());
  }
  throw new Error('the config was accepted');
}

describe('misspelled and unknown config keys', () => {
  it('names a misspelled key inside a server and suggests the right one, instead of "Invalid input"', () => {
    const lines = problems({ ...BASE, servers: { everything: { comand: 'npx', args: ['-y', 'x'] } } });
    expect(lines).toEqual(['servers.everything.comand: unknown key; did you mean command?']);
  });

  it('suggests the closest key at every level: top, nested, provider, case slips', () => {
    expect(problems({ ...BASE, tokenz: {} })).toEqual(['tokenz: unknown key; did you mean tokens?']);
    expect(problems({ ...BASE, tokens: { accessTokenTTL: '1h' } })).toEqual(['tokens.accessTokenTTL: unknown key; did you mean accessTokenTtl?']);
    expect(problems({ ...BASE, provider: { type: 'github', clientID: 'x' } })).toContain('provider.clientID: unknown key; did you mean clientId?');
    expect(problems({ ...BASE, servers: { s: { command: 'x', limit: {} } } })).toEqual(['servers.s.limit: unknown key; did you mean limits?']);
  });

  it('lists the valid keys when nothing is close', () => {
    const [line] = problems({ ...BASE, zzzzzzz: 1 });
    expect(line).toMatch(/^zzzzzzz: unknown key \(valid here: .*publicUrl.*servers/);
  });

  it('still says what is missing when no misspelling explains it', () => {
    expect(problems({ provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'] })).toEqual(['publicUrl: is required']);
  });

  it('quotes hostile keys, so a newline or an escape sequence cannot forge lines or rewrite the terminal', () => {
    const lines = problems({ ...BASE, 'x\nallowedUsers: fine': 1, '\u001b[2Jwiped': 2, '\u009b31mred': 3, 'a.b': 4 });
    for (const line of lines) expect(line).not.toMatch(/\p{Cc}/u);
    expect(lines.join('\n')).toContain('"x\\nallowedUsers: fine": unknown key');
    expect(lines.join('\n')).toContain('"a.b": unknown key');
    expect(lines).toHaveLength(4);
  });

  it('answers thousands of unknown or enormous keys quickly and without crashing', () => {
    const many = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]));
    expect(problems({ ...BASE, ...many })).toHaveLength(2000);
    expect(problems({ ...BASE, ['s'.repeat(20_000)]: 1 })).toHaveLength(1);
  });
});

describe('a host where a URL belongs', () => {
  it('suggests https for a public host and http for loopback, in the config', () => {
    expect(problems({ ...BASE, publicUrl: 'mcp.example.com' })).toEqual(['publicUrl: "mcp.example.com" is not a URL: write https://mcp.example.com']);
    expect(problems({ ...BASE, publicUrl: '127.0.0.1:8080' })).toEqual(['publicUrl: "127.0.0.1:8080" is not a URL: write http://127.0.0.1:8080']);
    expect(problems({ ...BASE, provider: { type: 'oidc', issuer: 'accounts.example.com', clientId: 'x' } })).toEqual([
      'provider.issuer: "accounts.example.com" is not a URL: write https://accounts.example.com',
    ]);
    expect(problems({ ...BASE, servers: { r: { url: 'docs.example.net/mcp' } } })).toEqual([
      'servers.r.url: "docs.example.net/mcp" is not a URL: write https://docs.example.net/mcp',
    ]);
  });

  it.each([
    ['mcp.example.com', 'https://mcp.example.com'],
    ['mcp.example.com:8443/base', 'https://mcp.example.com:8443/base'],
    ['127.0.0.1:8080', 'http://127.0.0.1:8080'],
    ['localhost:3000', 'http://localhost:3000'],
    ['[::1]:8080', 'http://[::1]:8080'],
    ['  mcp.example.com ', 'https://mcp.example.com'],
  ])('suggestUrl(%j) is %j', (text, url) => {
    expect(suggestUrl(text)).toBe(url);
  });

  it.each(['', 'https://mcp.example.com', 'not a host', 'gateway', 'ftp://x.example', 'a b.example', 'x'.repeat(300)])('suggests nothing for %j', (text) => {
    expect(suggestUrl(text)).toBeUndefined();
  });
});

describe('a port alone where HOST:PORT belongs', () => {
  it('means this host only, in the config (text or YAML number) and for --listen', () => {
    expect(parseConfig({ ...BASE, listen: 8080 }, 'x').listen).toBe('127.0.0.1:8080');
    expect(parseConfig({ ...BASE, listen: ' 9000 ' }, 'x').listen).toBe('127.0.0.1:9000');
    expect(parseConfig({ ...BASE, listen: '0.0.0.0:8080' }, 'x').listen).toBe('0.0.0.0:8080');
    expect(parseListen('8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListen('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
  });

  it.each([':8080', '70000', 'localhost', '8080:', '1.2.3.4:99999', '-1'])('refuses --listen %j as a usage error', (text) => {
    expect(() => parseListen(text)).toThrow(expect.objectContaining({ code: 'ERR_USAGE' }));
  });

  it('refuses a port number out of range in the config with a dotted path', () => {
    expect(problems({ ...BASE, listen: 70_000 })[0]).toMatch(/^listen: /);
    expect(problems({ ...BASE, listen: 'somewhere' })).toEqual(['listen: must be HOST:PORT or a port, e.g. 127.0.0.1:8080 or 8080']);
  });
});
