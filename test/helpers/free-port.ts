import { createServer } from 'node:net';

/** Ports this test process handed out already: the kernel may offer a closed one again at once. */
const handedOut = new Set<number>();

/**
 * A port that was free a moment ago on 127.0.0.1 (for configs that must name their URL before
 * listening), never one this process handed out before: four calls in a row once gave the same
 * port twice, and the second runtime to listen on it exited with "already in use".
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await probePort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

function probePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
