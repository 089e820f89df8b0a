import { loadConfig } from '../../runtime/config/load-config.js';
import { projectPaths } from '../../runtime/config/project-paths.js';
import { GatewayError } from '../../runtime/errors.js';
import { embeddedStoreFiles } from '../../runtime/config/store-files.js';
import { runningGateway } from '../../runtime/store/gateway-lock.js';
import { dirArg } from '../dir-arg.js';
import { processOutput, type CliOutput } from '../output.js';

export interface ReloadOptions {
  dir: string;
}

export interface ReloadDeps {
  output: CliOutput;
  /** Sends the signal (tests observe it). */
  signal(pid: number): void;
}

/**
 * `mcp-gateway reload`: tells a running `serve` of the project to apply its config (servers,
 * allowlist) and signing keys now, by SIGUSR2: SIGHUP would stop a serve that runs in a terminal
 * (its meaning there is "the terminal closed"). The config is checked here first, so a mistake is
 * reported to the person who made it, not only in the gateway's log.
 */
export async function runReload(options: ReloadOptions, deps: Partial<ReloadDeps> = {}): Promise<void> {
  const output = deps.output ?? processOutput;
  const signal = deps.signal ?? ((pid: number) => process.kill(pid, 'SIGUSR2'));
  const paths = projectPaths(options.dir);
  const config = await loadConfig(paths.dir);
  if (config.store.type !== 'embedded') {
    throw new GatewayError('ERR_GATEWAY_UNREACHABLE', 'with store.type redis, serve leaves no pid file to find it by', {
      hint: 'send the signal yourself: kill -USR2 <pid of mcp-gateway serve>; serve also reloads by itself when mcp-gateway.yaml changes',
    });
  }
  const holder = await runningGateway(embeddedStoreFiles(config.store, paths).database);
  if (holder === undefined) {
    throw new GatewayError('ERR_GATEWAY_UNREACHABLE', `no mcp-gateway serve is running for ${paths.dir}`, {
      hint: `start it: mcp-gateway serve${dirArg(paths.dir)} (it reads the current config at start)`,
    });
  }
  signal(holder.pid);
  output.stdout(`Sent SIGUSR2 to mcp-gateway serve (pid ${holder.pid}): it applies the config and signing keys now; its output says what changed.\n`);
}
