import { createServer } from 'node:net';
import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { ephemeralKeySet } from '../../runtime/auth/tokens/signing-keys.js';
import type { LocalLoginAnnouncement } from '../../runtime/auth/upstream/local-login.js';
import { findLaunchProblems, type LaunchProblem } from '../../runtime/bridge/launch-problems.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { isLoopbackHost, type GatewayConfig } from '../../runtime/config/schema.js';
import { demoConfig } from '../../runtime/demo/demo-config.js';
import { GatewayError } from '../../runtime/errors.js';
import type { RunningGateway } from '../../runtime/gateway.js';
import { createLogger } from '../../runtime/logger.js';
import { defaultLogFormat, type LogFormat } from '../../runtime/logging/log-format.js';
import { colorEnabled } from '../../runtime/logging/no-color.js';
import { terminalStyle, type TerminalStyle } from '../../runtime/logging/terminal-style.js';
import { terminalSafe } from '../../runtime/logging/terminal-text.js';
import { startProjectGateway } from '../../runtime/project-gateway.js';
import { defaultListen, parseListen } from '../../runtime/http/listen-address.js';
import { createEmbeddedStore } from '../../runtime/store/embedded-store.js';
import { dirArg } from '../dir-arg.js';
import { processOutput, type CliOutput } from '../output.js';
import { watchConfig } from '../../runtime/reload/config-watcher.js';

export interface ServeOptions {
  dir: string;
  listen?: string | undefined;
  demo?: boolean | undefined;
  /** Left out: pretty when stdout and stderr are terminals, JSON lines otherwise. */
  logFormat?: LogFormat | undefined;
}

/** The process's streams as far as serve cares: where a person watches, and what colours they want. */
export interface ServeTerminal {
  stdin: { isTTY?: boolean | undefined };
  stdout: { isTTY?: boolean | undefined };
  stderr: NodeJS.WritableStream & { isTTY?: boolean | undefined };
  env: NodeJS.ProcessEnv;
}

export interface ServeDeps {
  output: CliOutput;
  terminal: ServeTerminal;
}

const DEMO_LISTEN = '127.0.0.1:8080';

/** Signals that stop serve; SIGHUP joins them in a terminal's foreground (see `hangupStops`). */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

/** A problem serve reports at start, with the fix: a pretty line for a person, a warn entry in JSON logs. */
interface StartupWarning {
  event: string;
  server?: string;
  message: string;
  hint: string;
}

/**
 * `mcp-gateway serve`: router + auth + bridges in this process until SIGINT/SIGTERM. Human
 * lines (endpoints, one-time login codes) go to stdout; logs (pino: readable lines on a
 * terminal, JSON lines otherwise) to stderr.
 */
export async function runServe(options: ServeOptions, deps: Partial<ServeDeps> = {}): Promise<void> {
  const out = deps.output ?? processOutput;
  const terminal = deps.terminal ?? { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, env: process.env };
  const format = options.logFormat ?? defaultLogFormat(terminal);
  const logger = createLogger({ destination: terminal.stderr, format, color: format === 'pretty' && colorEnabled(terminal.stderr, terminal.env) });
  // What stdout shows a person at a terminal stands out (bold, a frame); piped, it stays the plain lines scripts match.
  const screen = terminal.stdout.isTTY === true ? terminalStyle({ color: colorEnabled(terminal.stdout, terminal.env) }) : undefined;
  const warn = (warning: StartupWarning): void => {
    if (format === 'json') {
      const { message, ...fields } = warning;
      logger.warn(fields, message);
    } else {
      const style = terminalStyle({ color: colorEnabled(terminal.stderr, terminal.env) });
      out.stderr(`${style.warning('warning:')} ${warning.message}\n  fix: ${warning.hint}\n`);
    }
  };

  let gateway: RunningGateway;
  let config: GatewayConfig;
  let notReady: LaunchProblem[] = [];
  if (options.demo) {
    const listen = parseListen(options.listen ?? DEMO_LISTEN);
    if (!isLoopbackHost(listen.host)) {
      throw new GatewayError('ERR_USAGE', `the demo only listens on loopback, not ${listen.host}`, {
        hint: 'use --listen 127.0.0.1:PORT, or `mcp-gateway init` for a real deployment',
      });
    }
    const port = listen.port === 0 ? await freePort(listen.host) : listen.port;
    config = demoConfig(port);
    const store = await createEmbeddedStore();
    gateway = await startProjectGateway({
      config,
      keys: await ephemeralKeySet(),
      store,
      listen: { host: listen.host, port },
      logger,
      announceLoginCode: (announcement) => out.stdout(loginCodeText(announcement, screen)),
    });
  } else {
    const paths = projectPaths(options.dir);
    config = await loadConfig(paths.dir);
    if (Object.keys(config.servers).length === 0) {
      warn({ event: 'no_servers', message: 'no servers configured', hint: `add one: mcp-gateway add-server NAME${dirArg(options.dir)}` });
    }
    notReady = findLaunchProblems(config, { projectDir: paths.dir, env: terminal.env });
    for (const problem of notReady) warn(launchWarning(problem, options.dir));
    const listen = options.listen !== undefined ? parseListen(options.listen) : defaultListen(config);
    gateway = await startProjectGateway({
      config,
      paths,
      listen,
      logger,
      announceLoginCode: (announcement) => out.stdout(loginCodeText(announcement, screen)),
    });
  }

  const running = gateway;
  // A project's config is watched: add-server, remove-server and allowlist edits apply without a restart.
  const watcher = options.demo
    ? undefined
    : watchConfig({
        configFile: projectPaths(options.dir).configFile,
        load: () => loadConfig(projectPaths(options.dir).dir),
        apply: (next) => running.applyConfig(next),
        logger,
        report: (line) => out.stdout(`${line}\n`),
      });
  // The config, and keys rotated with `mcp-gateway keys rotate`, without dropping sessions.
  const onReload = (signal: NodeJS.Signals): void => {
    void gateway.reloadKeys().then((changed) => out.stdout(`${signal}: signing keys ${changed ? 'reloaded' : 'unchanged'}\n`));
    void watcher?.reload(signal);
  };
  const hangupStops = inTerminalForeground(terminal);
  const reloadSignals: NodeJS.Signals[] = hangupStops ? ['SIGUSR2'] : ['SIGUSR2', 'SIGHUP'];
  for (const signal of reloadSignals) process.on(signal, onReload);
  const stopped = untilSignal(out, hangupStops ? [...STOP_SIGNALS, 'SIGHUP'] : STOP_SIGNALS);
  // Only now "ready": a reload sent as soon as it shows (a script, `mcp-gateway reload`) once met
  // the default action of SIGHUP, which ends the process.
  out.stdout(endpointsText(config, gateway, { demo: options.demo === true, notReady: new Set(notReady.map((p) => p.server)), screen }));
  await stopped;
  for (const signal of reloadSignals) process.off(signal, onReload);
  watcher?.close();
  await gateway.close();
  out.stdout('mcp-gateway stopped\n');
}

/**
 * SIGHUP means "your terminal is gone" to a foreground process (the kernel or the shell sends
 * it when the window closes or the SSH session drops): serve stops, instead of living on as an
 * orphan that holds the port and the store lock. Without a terminal (systemd, Docker, nohup)
 * SIGHUP keeps its daemon meaning, reload. SIGUSR2 (`mcp-gateway reload`) reloads in both.
 */
function inTerminalForeground(terminal: ServeTerminal): boolean {
  return terminal.stdin.isTTY === true || terminal.stdout.isTTY === true;
}

function launchWarning(problem: LaunchProblem, dir: string): StartupWarning {
  const rewrite = `mcp-gateway add-server ${problem.server}${dirArg(dir)} --force --command "..."`;
  if (problem.kind === 'cwd-missing') {
    return {
      event: 'server_cwd_missing',
      server: problem.server,
      message: `server ${problem.server} will not start: its cwd ${problem.cwd} does not exist`,
      hint: `create the directory, or edit servers.${problem.server}.cwd in mcp-gateway.yaml (serve picks the change up by itself)`,
    };
  }
  return {
    event: 'server_command_missing',
    server: problem.server,
    message: `server ${problem.server} will not start: command ${problem.command} is not installed (not found on PATH, or not executable)`,
    hint: `install ${problem.command} on the PATH serve runs with, or point the server at another command: ${rewrite}`,
  };
}

function loginCodeText({ code, clientName, user }: LocalLoginAnnouncement, screen: TerminalStyle | undefined): string {
  // Client names come from strangers (dynamic registration, metadata documents): no escape sequences into the terminal.
  const name = terminalSafe(clientName).slice(0, 100);
  if (screen === undefined) return `\nlogin requested by ${name} for ${user}: one-time code ${code} (valid 10 minutes)\n`;
  // Framed: among the log lines of the same login (registration, authorize...) the code must be found at a glance.
  return `\n${screen.framed([`login requested by ${name} for ${user}`, `one-time code ${screen.bold(code)}  (valid 10 minutes)`])}\n`;
}

function endpointsText(
  config: GatewayConfig,
  gateway: RunningGateway,
  { demo, notReady, screen }: { demo: boolean; notReady: ReadonlySet<string>; screen: TerminalStyle | undefined },
): string {
  const urls = gatewayUrls(config);
  const bold = screen?.bold ?? ((text: string) => text);
  const ready = urls.serverNames.filter((name) => !notReady.has(name));
  const lines = [bold(`mcp-gateway is ready on ${gateway.address.host}:${gateway.address.port}, public URL ${urls.issuer}`), ''];
  for (const name of ready) lines.push(`  ${name.padEnd(20)} ${bold(urls.resourceFor(name))}`);
  if (notReady.size > 0) lines.push(`  not ready: ${[...notReady].join(', ')} (see the warnings above)`);
  lines.push('', `  health               ${urls.issuer}/health`, `  OAuth metadata       ${urls.issuer}/.well-known/oauth-authorization-server`);
  if (config.provider.type === 'local') {
    lines.push('', `Log in as ${config.provider.user} with the one-time code this terminal prints when a client connects.`);
  }
  if (demo) {
    const first = urls.serverNames[0]!;
    lines.push(
      `Try it: npx @modelcontextprotocol/inspector  (Streamable HTTP, URL ${urls.resourceFor(first)})`,
      `    or: claude mcp add --transport http demo ${urls.resourceFor(first)}`,
      'The demo keeps nothing on disk: tokens end when it stops.',
    );
  }
  lines.push('Press Ctrl+C to stop.', '');
  return `${lines.join('\n')}\n`;
}

function untilSignal(out: CliOutput, signals: readonly NodeJS.Signals[]): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signal === 'SIGHUP') {
        // The terminal is gone: a write to it fails with EIO, which unhandled would end the
        // process at once, before the drain stops the child processes.
        const ignore = (): void => undefined;
        process.stdout.on('error', ignore);
        process.stderr.on('error', ignore);
      }
      // A second Ctrl+C or SIGTERM while shutting down means "now". A second SIGHUP does not:
      // a closing terminal sends two (the shell passes its own on to its jobs, then the kernel
      // hangs up the foreground group), and the first shutdown must finish. Until the process
      // ends, SIGHUP and SIGUSR2 do nothing rather than their default, which is to end it.
      // The new listeners go on before onSignal comes off: a signal with no listener left, even
      // for a moment, gets its default action back. (A hangup after the shutdown has finished,
      // while Node tears the process down, still ends it with 129: nothing is left to lose then.)
      const force = (): void => process.exit(1);
      for (const s of ['SIGHUP', 'SIGUSR2'] as const) process.on(s, () => undefined);
      for (const s of ['SIGINT', 'SIGTERM'] as const) process.once(s, force);
      for (const s of signals) process.off(s, onSignal);
      out.stdout(`\n${signal} received, stopping (sessions end, child processes are stopped)\n`);
      resolve();
    };
    for (const s of signals) process.on(s, onSignal);
  });
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, host, () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
