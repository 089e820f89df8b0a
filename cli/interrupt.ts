/**
 * Runs `task` with a signal that aborts on the first Ctrl+C (or SIGTERM), so `up` can roll back
 * and `logs --follow` can end cleanly; a second one exits at once.
 */
export async function untilInterrupted<T>(task: (signal: AbortSignal) => Promise<T>, onFirst: (signal: NodeJS.Signals) => void = () => {}): Promise<T> {
  const controller = new AbortController();
  const force = (): never => process.exit(130);
  const first = (signal: NodeJS.Signals): void => {
    process.off('SIGINT', first);
    process.off('SIGTERM', first);
    process.once('SIGINT', force);
    process.once('SIGTERM', force);
    onFirst(signal);
    controller.abort();
  };
  process.on('SIGINT', first);
  process.on('SIGTERM', first);
  try {
    return await task(controller.signal);
  } finally {
    process.off('SIGINT', first);
    process.off('SIGTERM', first);
    process.off('SIGINT', force);
    process.off('SIGTERM', force);
  }
}
