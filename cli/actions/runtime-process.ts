import type { RunningRuntime, RuntimeAddress } from '../../runtime/entrypoints/http-runtime.js';
import type { Logger } from '../../runtime/logger.js';

/** After a clean close the event loop should be empty; a leaked handle must not keep a container stopping forever. */
const EXIT_GRACE_MS = 5_000;

/**
 * Runs a container runtime until SIGTERM (docker stop) or SIGINT, then closes it gracefully
 * (bridges stop their children) and returns, so the CLI exits 0. A second signal exits at once.
 * The handlers are installed before the start, so a stop during a slow start still closes cleanly.
 */
export async function runUntilStopped(start: () => Promise<RunningRuntime<RuntimeAddress>>, logger: Logger): Promise<void> {
  let received: NodeJS.Signals | undefined;
  let wake: (() => void) | undefined;
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received !== undefined) {
      logger.warn({ event: 'forced_exit', signal }, 'second signal while stopping; exiting now');
      process.exit(1);
    }
    received = signal;
    logger.info({ event: 'signal', signal }, `${signal} received, stopping`);
    wake?.();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    const running = await start();
    await stopped;
    await running.close();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  setTimeout(() => {
    logger.warn({ event: 'exit_forced' }, 'something kept the process alive after closing; exiting');
    process.exit(process.exitCode ?? 0);
  }, EXIT_GRACE_MS).unref();
}
