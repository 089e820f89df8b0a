import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { bridgeRuntime, planDeployment, projectName } from '../cli/deploy/deploy-plan.js';
import { formatEnvFile } from '../cli/deploy/deploy-secrets.js';
import { parseEnvFile } from '../cli/deploy/docker/env-file.js';
import { mergeDocuments, parseRendered, toYamlText } from '../cli/deploy/merge-documents.js';
import { renderTemplate } from '../cli/deploy/render-template.js';
import { GatewayError } from '../runtime/errors.js';
import { sampleConfig } from './helpers/deploy-fixtures.js';

describe('renderTemplate', () => {
  it('writes each value as one YAML value, so no value can add keys or break the document', () => {
    const text = renderTemplate(
      'a: {{a}}\nb: {{b}}\nc: {{c}}\n',
      { a: 'x\nevil: true', b: '"quoted" # not a comment', c: { list: [1, 'two'] } },
      { format: 'yaml', source: 't.yml' },
    );
    expect(parse(text)).toEqual({ a: 'x\nevil: true', b: '"quoted" # not a comment', c: { list: [1, 'two'] } });
  });

  it('puts text values in as they are, one line only', () => {
    expect(renderTemplate('FROM {{image}}', { image: 'node:20' }, { format: 'text', source: 'D' })).toBe('FROM node:20');
    expect(() => renderTemplate('FROM {{image}}', { image: 'node\nRUN evil' }, { format: 'text', source: 'D' })).toThrow(TypeError);
  });

  it('refuses a placeholder without a value and a value without a placeholder', () => {
    expect(() => renderTemplate('a: {{a}}\nb: {{b}}', { a: 1 }, { format: 'yaml', source: 't.yml' })).toThrow(/t\.yml: no value for the placeholder \{\{b\}\}/);
    expect(() => renderTemplate('a: {{a}}', { a: 1, typo: 2 }, { format: 'yaml', source: 't.yml' })).toThrow(/values without a placeholder: typo/);
  });
});

describe('merging rendered fragments', () => {
  it('keeps comments, merges maps and refuses a key two fragments both define', () => {
    const base = parseRendered('# why\nservices:\n  a:\n    # keep this\n    image: x\n', 'base');
    mergeDocuments(base, parseRendered('services:\n  b:\n    image: "y"\n', 'fragment'), 'fragment');
    const text = toYamlText(base);
    expect(text).toContain('# keep this');
    expect(parse(text)).toEqual({ services: { a: { image: 'x' }, b: { image: 'y' } } });
    expect(() => mergeDocuments(base, parseRendered('services:\n  a:\n    image: z\n', 'again'), 'again')).toThrow(/services\.a\.image is defined twice/);
  });

  it('quotes what a YAML 1.1 reader would take for a number or a boolean', () => {
    const text = toYamlText(parseRendered('user: "1000:1000"\nflag: "yes"\naddress: ":80"\nplain: "0.0.0.0:8000"\n', 't'));
    expect(text).toBe('user: "1000:1000"\nflag: "yes"\naddress: ":80"\nplain: 0.0.0.0:8000\n');
  });
});

describe('env files of the secrets', () => {
  it('round-trips through the env-file reader of `up`, JSON with quotes included', () => {
    const headers = JSON.stringify({ Authorization: 'Bearer it\'s "ok" $HOME #1' });
    const text = formatEnvFile('bridge-docs', [
      ['MCPGW_UPSTREAM_HEADERS', headers],
      ['PLAIN', 'a$b #c\\d'],
    ]);
    const parsed = parseEnvFile(text);
    expect(parsed.ok).toBe(true);
    const env = new Map(parsed.ok ? parsed.env : []);
    expect(JSON.parse(env.get('MCPGW_UPSTREAM_HEADERS')!)).toEqual(JSON.parse(headers));
    expect(env.get('PLAIN')).toBe('a$b #c\\d');
  });

  it('refuses a plain secret an env file cannot carry literally', () => {
    for (const value of ["it's", 'two\nlines', 'ends\\']) {
      expect(() => formatEnvFile('auth', [['MCPGW_OIDC_CLIENT_SECRET', value]])).toThrow(GatewayError);
    }
  });
});

describe('the deployment plan', () => {
  it("refuses Traefik without a Let's Encrypt e-mail or with an http public URL", () => {
    const config = sampleConfig({ routing: 'path', router: 'traefik' });
    const { email: _email, ...withoutEmail } = config.deploy;
    expect(() => planDeployment({ ...config, deploy: withoutEmail }, '/srv/gw')).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID', hint: expect.stringContaining('init') }),
    );
    expect(() => planDeployment({ ...config, publicUrl: new URL('http://127.0.0.1:8080') }, '/srv/gw')).toThrow(
      expect.objectContaining({ code: 'ERR_CONFIG_INVALID' }),
    );
    expect(planDeployment({ ...config, publicUrl: new URL('http://127.0.0.1:8080'), deploy: { ...withoutEmail, router: 'builtin' } }, '/srv/gw').router).toBe(
      'builtin',
    );
  });

  it('names the project mcpgw-<folder>, lowercased, unless deploy.project says otherwise', () => {
    const config = sampleConfig({ routing: 'path', router: 'traefik' });
    expect(projectName(config, '/home/me/My Gateway.v2')).toBe('mcpgw-my-gateway-v2');
    expect(projectName({ deploy: { ...config.deploy, project: 'prod' } }, '/srv/x')).toBe('prod');
  });

  it('runs uvx, uv, python and pip servers in the Python runtime, everything else in the node one', () => {
    for (const command of ['uvx', 'uv', 'python3', 'python3.12', '/usr/bin/python', 'pip'])
      expect(bridgeRuntime({ command, args: [], env: {} }), command).toBe('python');
    for (const command of ['npx', 'node', '/opt/bin/server', 'uvicorn']) expect(bridgeRuntime({ command, args: [], env: {} }), command).toBe('node');
    expect(bridgeRuntime({ url: new URL('https://x.example/mcp') })).toBe('node');
    expect(bridgeRuntime({ builtin: 'demo' })).toBe('node');
  });
});
