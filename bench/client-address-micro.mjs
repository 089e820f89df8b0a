// What `trustedProxies` adds per request: the client's address walked out of X-Forwarded-For
// (proxy-addr) instead of the connection's peer. In this process, without HTTP; the router
// container does it twice per MCP request (for the token check's log line and the header it
// forwards). CPU µs per call (process.cpuUsage), steadier than wall time here.
//   npm run build && node bench/client-address-micro.mjs
import { clientAddress, peerAddress } from '../dist/runtime/http/client-address.js';

const CALLS = 200_000;
const PASSES = 3;
const request = {
  socket: { remoteAddress: '127.0.0.1' },
  headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' },
};
const cases = [
  ['no trustedProxies (the peer)', peerAddress],
  ['trustedProxies: [127.0.0.1]', clientAddress(['127.0.0.1'])],
  ['trustedProxies: three ranges', clientAddress(['10.0.0.0/8', '172.16.0.0/12', '127.0.0.0/8'])],
];
for (const [name, address] of cases) {
  const runs = [];
  let seen;
  for (let pass = 0; pass < PASSES; pass++) {
    const started = process.cpuUsage();
    for (let i = 0; i < CALLS; i++) seen = address(request);
    const used = process.cpuUsage(started);
    runs.push((used.user + used.system) / CALLS);
  }
  console.log(`${name.padEnd(32)} ${seen}  ${runs.map((us) => us.toFixed(3)).join(' / ')} µs CPU per call`);
}
