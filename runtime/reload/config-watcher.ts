import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { GatewayConfig } from '../config/schema.js';
import { isGatewayError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ReloadPlan } from './reload-plan.js';

export interface ConfigWatcherOptions {
  configFile: string;
  load: () => Promise<GatewayConfig>;
  apply: (next: GatewayConfig) => Promise<ReloadPlan>;
  logger: Logger;
  /** Told once per reload, in a sentence for the terminal. */
  report: (line: string) => void;
  /** Writes come as a burst (temp file, rename); one reload per burst. */
  debounceMs?: number;
}

export interface ConfigWatcher {
  /** Reloads now (`mcp-gateway reload`: SIGUSR2; SIGHUP without a terminal). Never rejects: a bad config is logged and the old one keeps serving. */
  reload(reason: string): Promise<void>;
  close(): void;
}

/**
 * Watches mcp-gateway.yaml and applies each valid change to the running gateway. The directory
 * is watched, not the file: every write of ours replaces the file by a rename (atomic-write.ts),
 * which ends a watch on the old inode. Reloads run one at a time; one asked for meanwhile runs
 * after it, once.
 */
export function watchConfig({ configFile, load, apply, logger, report, debounceMs = 250 }: ConfigWatcherOptions): ConfigWatcher {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;

  const reloadOnce = async (reason: string): Promise<void> => {
    let next: GatewayConfig;
    try {
      next = await load();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger.error({ event: 'config_reload_failed', reason, err: message }, 'the changed configuration is invalid; the old one keeps serving');
      report(`config not reloaded (${reason}): ${message.split('\n').join(' ')}`);
      return;
    }
    try {
      const plan = await apply(next);
      const parts = [
        plan.added.length > 0 ? `added ${plan.added.join(', ')}` : '',
        plan.removed.length > 0 ? `removed ${plan.removed.join(', ')}` : '',
        plan.changed.length > 0 ? `restarted ${plan.changed.join(', ')}` : '',
        plan.allowlistChanged ? 'allowlist updated' : '',
      ].filter(Boolean);
      report(`config reloaded (${reason}): ${parts.length > 0 ? parts.join('; ') : 'nothing to change'}`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      logger.error({ event: 'config_reload_failed', reason, err: message }, 'could not apply the changed configuration; the old one keeps serving');
      report(`config not reloaded (${reason}): ${message}${isGatewayError(err) && err.hint ? ` (${err.hint})` : ''}`);
    }
  };

  const reload = (reason: string): Promise<void> => {
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await reloadOnce(reason);
      } while (again);
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dirname(configFile), { persistent: false }, (_event, name) => {
      if (name !== null && name.toString() !== basename(configFile)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void reload('file changed'), debounceMs);
    });
    watcher.on('error', (err) =>
      logger.warn({ event: 'config_watch_failed', err: err.message }, 'stopped watching the configuration; mcp-gateway reload still reloads it'),
    );
  } catch (err) {
    logger.warn({ event: 'config_watch_failed', err: (err as Error).message }, 'cannot watch the configuration; mcp-gateway reload still reloads it');
  }
  return {
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
