import { createServer } from 'node:net';
import { gatewayUrls } from '../../runtime/auth/gateway-urls.js';
import { ephemeralKeySet } from '../../runtime/auth/tokens/signing-keys.js';
import type { LocalLoginAnnouncement } from '../../runtime/auth/upstream/local-login.js';
import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { isLoopbackHost, type GatewayConfig } from '../../runtime/config/schema.js';
import { demoConfig } from '../../runtime/demo/demo-config.js';
import { GatewayError } from '../../runtime/errors.js';
import type { RunningGateway } from '../../runtime/gateway.js';
import { createLogger } from '../../runtime/logger.js';
import { startProjectGateway } from '../../runtime/project-gateway.js';
import { defaultListen, parseListen } from '../../runtime/http/listen-address.js';
import { createEmbeddedStore } from '../../runtime/store/embedded-store.js';
import { processOutput, type CliOutput } from '../output.js';
import { watchConfig } from '../../runtime/reload/config-watcher.js';

export interface ServeOptions {
  dir: string;
  listen?: string | undefined;
  demo?: boolean | undefined;
}

const DEMO_LISTEN = '127.0.0.1:8080';

/**
 * `mcp-gateway serve`: router + auth + bridges in this process until SIGINT/SIGTERM. Human
 * lines (endpoints, one-time login codes) go to stdout; JSON logs (pino) to stderr.
 */
export async function runServe(options: ServeOptions, out: CliOutput = processOutput): Promise<void> {
  const logger = createLogger({ destination: process.stderr });
  const announce = ({ code, clientName, user }: LocalLoginAnnouncement): void => {
    // Client names come from strangers (dynamic registration, metadata documents): no escape sequences into the terminal.
    const name = clientName.replace(/[\p{Cc}\p{Cf}]/gu, '?').slice(0, 100);
    out.stdout(`\nlogin requested by ${name} for ${user}: one-time code ${code} (valid 10 minutes)\n`);
  };

  let gateway: RunningGateway;
  let config: GatewayConfig;
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
      announceLoginCode: announce,
    });
  } else {
    const paths = projectPaths(options.dir);
    config = await loadConfig(paths.dir);
    if (Object.keys(config.servers).length === 0) {
      out.stderr(`warning: no servers configured; add one with \`mcp-gateway add-server NAME --dir ${options.dir}\`\n`);
    }
    const listen = options.listen !== undefined ? parseListen(options.listen) : defaultListen(config);
    gateway = await startProjectGateway({ config, paths, listen, logger, announceLoginCode: announce });
  }

  printEndpoints(out, config, gateway, options.demo === true);
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
  // SIGHUP (`mcp-gateway reload`): the config, and keys rotated with `mcp-gateway keys rotate`, without dropping sessions.
  const onHangup = (): void => {
    void gateway.reloadKeys().then((changed) => out.stdout(changed ? 'SIGHUP: signing keys reloaded\n' : 'SIGHUP: signing keys unchanged\n'));
    void watcher?.reload('SIGHUP');
  };
  process.on('SIGHUP', onHangup);
  await untilSignal(out);
  process.off('SIGHUP', onHangup);
  watcher?.close();
  await gateway.close();
  out.stdout('mcp-gateway stopped\n');
}

function printEndpoints(out: CliOutput, config: GatewayConfig, gateway: RunningGateway, demo: boolean): void {
  const urls = gatewayUrls(config);
  const lines = [`mcp-gateway is ready on ${gateway.address.host}:${gateway.address.port}, public URL ${urls.issuer}`, ''];
  for (const name of urls.serverNames) lines.push(`  ${name.padEnd(20)} ${urls.resourceFor(name)}`);
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
  out.stdout(`${lines.join('\n')}\n`);
}

function untilSignal(out: CliOutput): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      out.stdout(`\n${signal} received, stopping (sessions end, child processes are stopped)\n`);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      // A second signal while shutting down means "now".
      const force = (): void => process.exit(1);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
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
