// Our bridge alone: createStdioBridge behind node:http, in a process of its own. Every request
// is attributed to one user (the router would set x-user-sub after checking the token).
import { createServer } from 'node:http';
import { createStdioBridge } from '../dist/runtime/bridge/streamable-http-bridge.js';
import { silentLogger } from '../dist/runtime/logger.js';

const [fixture, pool = '0'] = process.argv.slice(2);
const bridge = createStdioBridge({
  serverName: 'echo',
  launch: { command: process.execPath, args: [fixture], env: {} },
  logger: silentLogger(),
  pool: Number(pool),
  maxSessions: 10_000,
  maxSessionsPerUser: 10_000,
});
const server = createServer((req, res) => {
  req.headers['x-user-sub'] = 'bench';
  void bridge.handle(req, res);
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
// {type: 'cpu'}: this process's CPU time so far (user + system, all its threads, not its children), for the bench's CPU per call.
process.on('message', async (message) => {
  if (message?.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send({ type: 'cpu', us: user + system });
  } else if (message === 'stop') {
    await bridge.close();
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
