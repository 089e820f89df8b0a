import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../runtime/config/load-config.js';
import { projectPaths } from '../runtime/config/project-paths.js';
import { embeddedStoreFiles } from '../runtime/config/store-files.js';
import { createLogger } from '../runtime/logger.js';
import { colorEnabled } from '../runtime/logging/no-color.js';
import { gatewayLockPath } from '../runtime/store/gateway-lock.js';
import { ECHO_SERVER, descendantPids, isAlive } from './helpers/bridge-harness.js';
import { localInitArgs, makeTempDir, PACKAGE_ROOT, removeTempDir, runCli } from './helpers/cli-run.js';
import { freePort } from './helpers/free-port.js';
import { ServeProcess } from './helpers/serve-process.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape codes are what is asserted
const SGR = /\u001b\[[0-9;]*m/;
const ESC = '\u001b';
const JSON_LINE = /^\{"level":\d+/m;
const SCRIPT_SKIP_MESSAGE = 'util-linux `script` not found: install it (apt-get install -y bsdutils, or util-linux) to run the terminal tests';

/**
 * util-linux `script` gives the command a real pseudo-terminal (node-pty needs a native build
 * this sandbox cannot download). Without it the tests skip locally but fail in CI, where a skip
 * would hide a regression.
 */
function scriptAvailable(): boolean {
  const probe = spawnSync('script', ['--version'], { encoding: 'utf8' });
  const found = probe.status === 0 && probe.stdout.includes('util-linux');
  if (!found && process.env['CI']) throw new Error(`the terminal tests need a pseudo-terminal in CI: ${SCRIPT_SKIP_MESSAGE}`);
  if (!found) console.warn(`skipping: ${SCRIPT_SKIP_MESSAGE}`);
  return found;
}

function shellWord(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** The environment of a person's terminal: nothing that configures the gateway or forces colour on or off. */
function terminalEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('MCPGW_') || key.startsWith('MCP_GATEWAY_')) continue;
    if (key === 'NO_COLOR' || key === 'FORCE_COLOR') continue;
    env[key] = value;
  }
  // `$$` and `exec` below are POSIX sh; the user's login shell may be another.
  return { ...env, SHELL: '/bin/sh', TERM: 'xterm-256color', LOG_LEVEL: 'info', ...extra };
}

/**
 * `mcp-gateway serve` with a pseudo-terminal as stdin, stdout and stderr (both streams arrive
 * merged, as a person sees them). `script` runs `sh -c`, which prints its pid and execs node:
 * that pid is serve's, the one to signal.
 */
class TerminalServe {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], env: Record<string, string> = {}) {
    const command = `echo "serve pid $$"; exec ${[process.execPath, 'bin/mcp-gateway.js', 'serve', ...args].map(shellWord).join(' ')}`;
    this.child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: PACKAGE_ROOT, env: terminalEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.output += chunk));
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  /** What serve wrote, with the terminal's CR LF line ends made LF. */
  get text(): string {
    return this.output.replaceAll('\r\n', '\n');
  }

  async servePid(): Promise<number> {
    return Number((await this.waitFor(/serve pid (\d+)/))[1]);
  }

  async waitFor(pattern: RegExp, { from = 0, timeoutMs = 15_000 } = {}): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(this.text.slice(from));
      if (match) return match;
      if (this.child.exitCode !== null) throw new Error(`serve in a terminal exited (${this.child.exitCode}) before ${pattern}:\n${this.text}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${this.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops serve by its pid (SIGTERM, then SIGKILL for both it and `script`). */
  async stop(): Promise<void> {
    const match = /serve pid (\d+)/.exec(this.text);
    const pid = match ? Number(match[1]) : undefined;
    const signal = (name: NodeJS.Signals): void => {
      if (pid !== undefined && isAlive(pid)) process.kill(pid, name);
    };
    signal('SIGTERM');
    const timer = setTimeout(() => {
      signal('SIGKILL');
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }, 10_000);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Registers a client and opens /authorize: the local login page then announces a one-time code. */
async function requestLogin(publicUrl: string, server: string): Promise<void> {
  const redirect = 'http://127.0.0.1:9/callback';
  const registered = await fetch(`${publicUrl}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ redirect_uris: [redirect], token_endpoint_auth_method: 'none', client_name: 'terminal test' }),
  });
  expect(registered.status).toBe(201);
  const { client_id } = (await registered.json()) as { client_id: string };
  const authorize = new URL(`${publicUrl}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id,
    redirect_uri: redirect,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    resource: `${publicUrl}/${server}/mcp`,
  }).toString();
  await (await fetch(authorize, { redirect: 'manual' })).text();
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function memoryDestination(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { lines, stream };
}

describe('the pretty log format', () => {
  it('redacts a token-like field as the JSON format does', () => {
    const { lines, stream } = memoryDestination();
    const logger = createLogger({ destination: stream, format: 'pretty', color: false });
    logger.info({ event: 'client_seen', token: 'tok-secret', headers: { authorization: 'Bearer hdr-secret' }, client_secret: 'cs-secret' }, 'client seen');
    const line = lines.join('');
    expect(line).toContain('client seen');
    expect(line).toContain('[redacted]');
    expect(line).not.toMatch(/tok-secret|hdr-secret|cs-secret/);
    expect(line).not.toMatch(JSON_LINE);
  });

  it('lets no escape sequence or line break from a logged value reach the terminal', () => {
    const { lines, stream } = memoryDestination();
    const logger = createLogger({ destination: stream, format: 'pretty', color: false });
    logger.info({ clientName: 'evil\u001b]0;owned\u0007\u009b2J' }, 'from \u001b[31mred\u001b[0m\nINFO: forged line');
    const output = lines.join('');
    for (const control of [ESC, '\u009b', '\u0007']) expect(output).not.toContain(control);
    expect(output.trimEnd().split('\n')).toHaveLength(1);
  });

  it('writes a URL as its text (redaction once turned it into "unable to serialize")', () => {
    const { lines, stream } = memoryDestination();
    createLogger({ destination: stream }).info({ event: 'gateway_listening', publicUrl: new URL('http://127.0.0.1:8080') });
    expect(JSON.parse(lines.join(''))).toMatchObject({ publicUrl: 'http://127.0.0.1:8080/' });
  });

  it('takes colour only on a terminal without NO_COLOR, which an empty value does not set (no-color.org)', () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
  });
});

describe.skipIf(!scriptAvailable())('mcp-gateway serve in a real terminal', () => {
  /** The demo on a port it picks itself (a port probed free here could be taken before serve binds it). */
  const demo = async (extraArgs: string[], env: Record<string, string> = {}): Promise<{ serve: TerminalServe; publicUrl: string }> => {
    const serve = new TerminalServe(['--demo', '--listen', '127.0.0.1:0', ...extraArgs], env);
    try {
      await serve.waitFor(/Press Ctrl\+C to stop/);
      const [, publicUrl] = await serve.waitFor(/public URL (http:\/\/127\.0\.0\.1:\d+)/);
      return { serve, publicUrl: publicUrl! };
    } catch (err) {
      await serve.stop();
      throw err;
    }
  };

  it('writes short readable log lines, not JSON, and frames the one-time login code in bold', async () => {
    const { serve, publicUrl } = await demo([]);
    try {
      expect(serve.text).not.toMatch(JSON_LINE);
      expect(serve.text.replace(new RegExp(SGR, 'g'), '')).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: gateway_listening /m);
      expect(serve.text).toMatch(SGR);
      const mark = serve.text.length;
      await requestLogin(publicUrl, 'demo');
      const [, code] = await serve.waitFor(/one-time code \S*?([A-Z0-9]{4}-[A-Z0-9]{4})/, { from: mark });
      // The terminal hands the frame over in pieces: its last line can arrive after the code's.
      await serve.waitFor(/└─+┘/, { from: mark });
      const announcement = serve.text.slice(mark);
      expect(announcement).toContain(`one-time code ${ESC}[1m${code}${ESC}[22m`);
      expect(announcement.replace(new RegExp(SGR, 'g'), '')).toMatch(
        /┌─+┐\n│ login requested by terminal test for demo +│\n│ one-time code [A-Z0-9]{4}-[A-Z0-9]{4} {2}\(valid 10 minutes\) +│\n└─+┘/,
      );
    } finally {
      await serve.stop();
    }
  }, 30_000);

  it('writes no colour code at all with NO_COLOR=1, and keeps the frame', async () => {
    const { serve, publicUrl } = await demo([], { NO_COLOR: '1' });
    try {
      const mark = serve.text.length;
      await requestLogin(publicUrl, 'demo');
      await serve.waitFor(/one-time code [A-Z0-9]{4}-[A-Z0-9]{4}/, { from: mark });
      await serve.waitFor(/└─+┘/, { from: mark });
      expect(serve.text).not.toMatch(JSON_LINE);
      expect(serve.text).toMatch(/┌─+┐/);
      expect(serve.text).not.toContain(`${ESC}[`);
    } finally {
      await serve.stop();
    }
  }, 30_000);

  it('writes JSON lines in a terminal with --log-format json', async () => {
    const { serve } = await demo(['--log-format', 'json']);
    try {
      await serve.waitFor(/^\{"level":30,.*"event":"gateway_listening"/m);
    } finally {
      await serve.stop();
    }
  }, 30_000);

  it('writes JSON lines and plain text when stdout is piped', async () => {
    const serve = new ServeProcess(['--demo', '--listen', '127.0.0.1:0']);
    try {
      const [, publicUrl] = await serve.waitFor(/public URL (http:\/\/127\.0\.0\.1:\d+)/);
      await serve.waitFor(/Press Ctrl\+C to stop/);
      const mark = serve.stdout.length;
      await requestLogin(publicUrl!, 'demo');
      await serve.waitFor(/login requested by terminal test for demo: one-time code [A-Z0-9]{4}-[A-Z0-9]{4} \(valid 10 minutes\)/, { from: mark });
      expect(serve.stderr).toMatch(/^\{"level":30,.*"event":"gateway_listening"/m);
      expect(serve.stdout + serve.stderr).not.toContain(`${ESC}[`);
      expect(serve.stdout).not.toContain('┌');
    } finally {
      await serve.stop();
    }
  }, 30_000);

  describe('signals', () => {
    let dir: string;
    let publicUrl: string;
    let port: number;
    let lockFile: () => string;

    beforeAll(async () => {
      dir = await makeTempDir('mcpgw-terminal-');
      port = await freePort();
      publicUrl = `http://127.0.0.1:${port}`;
      const init = await runCli(localInitArgs(dir, publicUrl));
      expect(init.code, init.stderr).toBe(0);
      const added = await runCli(['add-server', 'echo', '--dir', dir, '--command', `"${process.execPath}" "${ECHO_SERVER}"`]);
      expect(added.code, added.stderr).toBe(0);
      const { store } = await loadConfig(dir);
      if (store.type !== 'embedded') throw new TypeError('init makes an embedded store');
      const lock = gatewayLockPath(embeddedStoreFiles(store, projectPaths(dir)).database);
      lockFile = () => lock;
    }, 30_000);
    afterAll(async () => {
      await removeTempDir(dir);
    });

    /** Opens an MCP session, so serve has a child process to stop; returns the pids under serve. */
    const openSession = async (servePid: number): Promise<number[]> => {
      const issued = await runCli(['token', 'issue', '--dir', dir, '--user', 'alice', '--server', 'echo']);
      expect(issued.code, issued.stderr).toBe(0);
      const res = await fetch(`${publicUrl}/echo/mcp`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${issued.stdout.trim().split('\n').at(-1)}`,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 0,
          method: 'initialize',
          params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'terminal', version: '1' } },
        }),
      });
      expect(res.status).toBe(200);
      await res.text();
      const pids = descendantPids(servePid);
      expect(pids.length).toBeGreaterThan(0);
      return pids;
    };

    it('stops on SIGHUP in a terminal, a second SIGHUP included: children stopped, store lock released, port freed', async () => {
      const serve = new TerminalServe(['--dir', dir]);
      try {
        const pid = await serve.servePid();
        await serve.waitFor(/Press Ctrl\+C to stop/);
        expect(existsSync(lockFile())).toBe(true);
        const children = await openSession(pid);
        // A closing terminal sends two: the shell passes its own on, then the kernel hangs up the
        // foreground group. The second once cut the shutdown short (exit 1, lock left behind).
        process.kill(pid, 'SIGHUP');
        await serve.waitFor(/SIGHUP received, stopping/);
        try {
          process.kill(pid, 'SIGHUP');
        } catch (err) {
          // A shutdown this quick is over before the second hangup: nothing left to signal.
          if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
        }
        // 0, or 129 when the second hangup lands after the shutdown finished, while Node tears the
        // process down and signals have their default action again (seen on Node 20 and 24 when the
        // shutdown takes a few milliseconds). Either way the shutdown ran to its end: the checks below.
        expect([0, 129]).toContain(await serve.exited);
        expect(serve.text).toContain('SIGHUP received, stopping');
        expect(serve.text).toContain('mcp-gateway stopped');
        expect(existsSync(lockFile())).toBe(false);
        expect(await portIsFree(port)).toBe(true);
        await expect.poll(() => children.filter(isAlive), { timeout: 5_000, interval: 100 }).toEqual([]);
      } finally {
        await serve.stop();
      }
    }, 60_000);

    it('stops cleanly when the terminal itself goes away (the kernel hangs up)', async () => {
      const serve = new TerminalServe(['--dir', dir]);
      try {
        const pid = await serve.servePid();
        await serve.waitFor(/Press Ctrl\+C to stop/);
        const children = await openSession(pid);
        // The pty's other end closes, as when the terminal window or the SSH session does: every
        // write serve makes from now on fails (EIO), and none of them may crash the shutdown.
        serve.child.kill('SIGKILL');
        await expect.poll(() => isAlive(pid), { timeout: 15_000, interval: 100 }).toBe(false);
        // Released by the shutdown, not left stale for the next serve to take over.
        expect(existsSync(lockFile())).toBe(false);
        expect(await portIsFree(port)).toBe(true);
        await expect.poll(() => children.filter(isAlive), { timeout: 5_000, interval: 100 }).toEqual([]);
      } finally {
        await serve.stop();
      }
    }, 60_000);

    it('reloads on SIGHUP without a terminal (systemd, Docker) and keeps serving', async () => {
      const serve = new ServeProcess(['--dir', dir]);
      try {
        await serve.waitFor(/Press Ctrl\+C to stop/);
        const mark = serve.stdout.length;
        serve.child.kill('SIGHUP');
        await serve.waitFor(/config reloaded \(SIGHUP\)/, { from: mark });
        expect(serve.stdout.slice(mark)).not.toContain('stopping');
        expect((await fetch(`${publicUrl}/.well-known/oauth-authorization-server`)).status).toBe(200);
        expect(serve.child.exitCode).toBeNull();
      } finally {
        await serve.stop();
      }
    }, 30_000);
  });
});
