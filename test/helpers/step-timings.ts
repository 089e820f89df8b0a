/**
 * How long each named step of a slow suite took, printed once at its end: the figures a closing
 * note quotes (`timed('first up', () => ...)`).
 */
export function stepTimings(): { timings: Record<string, number>; timed: <T>(label: string, step: () => Promise<T>) => Promise<T> } {
  const timings: Record<string, number> = {};
  const timed = async <T>(label: string, step: () => Promise<T>): Promise<T> => {
    const start = Date.now();
    try {
      return await step();
    } finally {
      timings[label] = Date.now() - start;
    }
  };
  return { timings, timed };
}
