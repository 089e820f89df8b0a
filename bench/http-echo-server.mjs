// A reference point, not an MCP server: node:http answering each JSON-RPC request in-process
// (initialize, then tools/call echo), with no child process and no SDK. Its latency is what one
// HTTP round trip costs on this machine; any bridge adds a stdio round trip on top.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    if (req.method !== 'POST') return res.writeHead(200).end();
    const message = JSON.parse(body);
    if (message.id === undefined) return res.writeHead(202).end();
    const result =
      message.method === 'initialize'
        ? { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'http-echo', version: '1' } }
        : { content: [{ type: 'text', text: message.params.arguments.text }] };
    const json = JSON.stringify({ jsonrpc: '2.0', id: message.id, result });
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) };
    if (message.method === 'initialize') headers['mcp-session-id'] = randomUUID();
    res.writeHead(200, headers).end(json);
  });
});
server.listen(0, '127.0.0.1', () => process.send?.({ port: server.address().port }));
// {type: 'cpu'}: this process's CPU time so far (user + system, all its threads, not its children), for the bench's CPU per call.
process.on('message', (message) => {
  if (message?.type === 'cpu') {
    const { user, system } = process.cpuUsage();
    process.send({ type: 'cpu', us: user + system });
  } else if (message === 'stop') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
