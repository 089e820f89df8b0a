import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatByteSize, parseByteSize } from '../runtime/config/byte-size.js';
import { urlText } from '../runtime/config/config-codecs.js';
import { formatDuration, parseDuration } from '../runtime/config/duration.js';
import { blockStyle, editConfig } from '../runtime/config/edit-config.js';
import { loadConfig, parseConfig } from '../runtime/config/load-config.js';
import { configSchema } from '../runtime/config/schema.js';
import { configText } from '../runtime/config/write-config.js';

const BASE = { publicUrl: 'http://127.0.0.1:8080', provider: { type: 'local', user: 'alice' }, allowedUsers: ['alice'] } as const;

describe('the config is parsed once into typed values', () => {
  it('turns durations into milliseconds, sizes into bytes and URLs into URL objects', () => {
    const config = parseConfig(
      {
        ...BASE,
        tokens: { accessTokenTtl: '15m' },
        servers: {
          s: { command: 'node', limits: { idleTimeout: '90s', requestTimeout: '2m', memory: '512m' } },
          r: { url: 'https://docs.example.net/mcp' },
        },
        allowedOrigins: ['https://app.example.com'],
      },
      'test',
    );
    expect(config.tokens).toEqual({ accessTokenTtl: 15 * 60_000, refreshTokenTtl: 30 * 86_400_000, refreshReuseGrace: 30_000 });
    expect(config.clients.unusedTtl).toBe(86_400_000);
    expect(config.shutdownGrace).toBe(10_000);
    const stdio = config.servers['s'];
    expect(stdio && 'command' in stdio ? stdio.limits : undefined).toEqual({ idleTimeout: 90_000, requestTimeout: 120_000, memory: 512 * 1024 ** 2 });
    expect(config.publicUrl).toBeInstanceOf(URL);
    expect(config.publicUrl.origin).toBe('http://127.0.0.1:8080');
    const remote = config.servers['r'];
    expect(remote && 'url' in remote ? remote.url.pathname : undefined).toBe('/mcp');
    expect(config.allowedOrigins?.map((url) => url.origin)).toEqual(['https://app.example.com']);
  });

  it('writes the values back in the notation a person writes, and that text parses to the same config', () => {
    const config = parseConfig({ ...BASE, servers: { s: { command: 'node', limits: { idleTimeout: '45m', memory: '1536m' } } } }, 'test');
    const encoded = configSchema.encode(config);
    expect(encoded.publicUrl).toBe('http://127.0.0.1:8080');
    expect(encoded.tokens).toEqual({ accessTokenTtl: '8h', refreshTokenTtl: '30d', refreshReuseGrace: '30s' });
    expect(encoded.clients?.unusedTtl).toBe('24h');
    expect(encoded.servers?.['s']).toMatchObject({ limits: { idleTimeout: '45m', memory: '1536m' } });
    expect(parseConfig(encoded, 'round trip')).toEqual(config);
    expect(configText(config)).toContain('publicUrl: http://127.0.0.1:8080\n');
  });

  it('keeps a URL with a path exactly, and drops only the bare trailing slash', () => {
    expect(urlText(new URL('https://mcp.example.com'))).toBe('https://mcp.example.com');
    expect(urlText(new URL('https://x.example/mcp/'))).toBe('https://x.example/mcp/');
    expect(urlText(new URL('https://x.example/?q=1'))).toBe('https://x.example/?q=1');
    expect(urlText(new URL('redis://127.0.0.1:6379/0'))).toBe('redis://127.0.0.1:6379/0');
  });

  it('formats durations and sizes as the inverse of parsing', () => {
    for (const text of ['30s', '90s', '15m', '8h', '24h', '36h', '2d', '30d', '90d']) expect(formatDuration(parseDuration(text)!)).toBe(text);
    expect(formatDuration(parseDuration('1d')!)).toBe('24h');
    expect(formatDuration(parseDuration('60m')!)).toBe('1h');
    for (const text of ['1g', '512m', '1536m', '64k', '1000b']) expect(formatByteSize(parseByteSize(text)!)).toBe(text);
    expect(parseByteSize(formatByteSize(parseByteSize('1.001g')!))).toBe(parseByteSize('1.001g'));
  });

  it('refuses malformed values with the dotted path, never a crash', () => {
    for (const [raw, path] of [
      [{ ...BASE, tokens: { accessTokenTtl: '8 hours' } }, 'tokens.accessTokenTtl: not a duration'],
      [{ ...BASE, tokens: { accessTokenTtl: 28_800_000 } }, 'tokens.accessTokenTtl'],
      [{ ...BASE, shutdownGrace: '0s' }, 'shutdownGrace: not a duration'],
      [{ ...BASE, servers: { s: { command: 'node', limits: { memory: 'lots' } } } }, 'servers.s.limits.memory: not a memory size'],
      [{ ...BASE, publicUrl: 'mcp.example.com' }, 'publicUrl'],
      [{ ...BASE, allowedOrigins: ['not a url'] }, 'allowedOrigins.0'],
      [{ ...BASE, servers: { r: { url: 'ftp://x.example/mcp' } } }, 'servers.r'],
    ] as const) {
      expect(() => parseConfig(raw, 'test'), JSON.stringify(raw)).toThrow(
        expect.objectContaining({ code: 'ERR_CONFIG_INVALID', message: expect.stringContaining(path) }),
      );
    }
  });
});

describe('editConfig', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("keeps the file's comments and the user's own notation, and refuses an edit that would not load", async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-edit-'));
    const file = join(dir, 'mcp-gateway.yaml');
    const original = `# my gateway\npublicUrl: http://127.0.0.1:8080 # loopback for now\nprovider: { type: local, user: alice }\nallowedUsers: [alice]\ntokens:\n  accessTokenTtl: 60m # one hour\nservers: {}\n`;
    await writeFile(file, original);
    const { before, after } = await editConfig(dir, (document) => {
      blockStyle(document, ['servers']);
      document.setIn(['servers', 'echo'], document.createNode({ command: 'node', args: ['echo.js'] }));
    });
    expect(Object.keys(before.servers)).toEqual([]);
    expect(Object.keys(after.servers)).toEqual(['echo']);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# my gateway\n');
    expect(text).toContain('publicUrl: http://127.0.0.1:8080 # loopback for now\n');
    expect(text).toContain('accessTokenTtl: 60m # one hour\n');
    expect(text).toMatch(/servers:\n {2}echo:\n {4}command: node\n/);
    expect((await loadConfig(dir)).tokens.accessTokenTtl).toBe(3_600_000);

    await expect(editConfig(dir, (document) => document.setIn(['tokens', 'accessTokenTtl'], 'forever'))).rejects.toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      message: expect.stringContaining('tokens.accessTokenTtl'),
    });
    expect(await readFile(file, 'utf8')).toBe(text);
  });
});
