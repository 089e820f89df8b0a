import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';

const READY_TIMEOUT_MS = 5_000;
const STOP_GRACE_MS = 3_000;
const REDIS_SKIP_MESSAGE = 'redis-server not found: install it (apt-get install -y redis-server) to run the Redis tests';

/**
 * A Redis for integration tests: `REDIS_URL` when set (left running), otherwise a private
 * redis-server on a free loopback port (no persistence, temp dir, stopped by PID); `private`
 * always starts one of its own (a test that stops its server). Without
 * redis-server the tests skip locally but fail in CI, where a skip would hide a regression.
 */
export async function startRedis(
  options: { private?: boolean /** A port of its own choosing (a test restarting Redis where the gateway expects it). */; port?: number } = {},
): Promise<{ url: string; stop(): Promise<void> } | { skip: string }> {
  const external = process.env['REDIS_URL'];
  if (external && !options.private) return { url: external, stop: async () => {} };
  const binary = findOnPath('redis-server');
  if (binary === undefined) {
    if (process.env['CI']) throw new Error(`Redis is required in CI: ${REDIS_SKIP_MESSAGE}, or set REDIS_URL`);
    return { skip: REDIS_SKIP_MESSAGE };
  }
  // Another process can take the free port between our probe and redis-server's bind: try again.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await spawnRedis(binary, options.port);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

async function spawnRedis(binary: string, fixedPort?: number): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mcpgw-redis-'));
  const port = fixedPort ?? (await freePort());
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  // If the test process dies without stopping it, do not leave the server behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.off('exit', killOnExit);
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  try {
    await waitForPong(port, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function waitForPong(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode}) before answering PING:\n${output()}`);
    }
    if (await answersPing(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** SIGTERM, then SIGKILL if it lingers; always by this child's PID, never by name. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const lingered = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), STOP_GRACE_MS);
    }),
  ]);
  clearTimeout(timer);
  if (lingered) {
    child.kill('SIGKILL');
    await exited;
  }
}
