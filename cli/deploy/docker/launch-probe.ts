import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

/**
 * Asks a bridge container why it is not healthy yet: its `/health` answers with the `detail` of
 * the bridge's cached initialize probe (runtime/entrypoints/bridge-runtime.ts), which Docker's
 * healthcheck reduces to "HTTP 503". Run with node inside the container (every runtime image has
 * it), on the address the bridge listens on (MCPGW_LISTEN: a port, or the socket of `network: none`).
 */
const SCRIPT = [
  "const l=process.env.MCPGW_LISTEN||'0.0.0.0:8000';",
  "const o=l.startsWith('unix:')?{socketPath:l.slice(5),path:'/health'}:{host:'127.0.0.1',port:Number(l.split(':').pop()),path:'/health'};",
  "const r=require('http').get({...o,timeout:3000},(s)=>{let b='';s.on('data',(c)=>b+=c);s.on('end',()=>{process.stdout.write(b);process.exit(0)})});",
  "r.on('error',()=>process.exit(1));r.on('timeout',()=>r.destroy());",
].join('');

/**
 * What no waiting changes: the command is not in the image, or the server process exits before it
 * answers `initialize` (a crash, a missing argument or API key). The bridge keeps running and
 * retrying, so without this `up` would wait out the healthcheck's start period and retries.
 * A server still downloading (npx, uvx) or slow to answer is not one of these.
 */
const PERMANENT = [/\bcommand "[^"]*" not found/, /\bthe server exited \([^)]*\) before answering initialize/];

export function isPermanentLaunchFailure(detail: string): boolean {
  return PERMANENT.some((pattern) => pattern.test(detail));
}

/** The bridge's own words on why it is unhealthy, or undefined (healthy, not listening yet, no answer within 5 s). */
export async function bridgeHealthDetail(docker: Docker, id: string): Promise<string | undefined> {
  const container = docker.getContainer(id);
  try {
    const exec = await container.exec({ Cmd: ['/usr/local/bin/node', '-e', SCRIPT], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const stdout = new PassThrough();
    let body = '';
    stdout.on('data', (chunk: Buffer) => {
      if (body.length < 16_384) body += chunk.toString('utf8');
    });
    docker.modem.demuxStream(stream, stdout, new PassThrough());
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 5_000);
      function done(): void {
        clearTimeout(timer);
        stream.destroy();
        resolve();
      }
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', done);
    });
    const parsed = JSON.parse(body) as { status?: unknown; detail?: unknown };
    return parsed.status !== 'ok' && typeof parsed.detail === 'string' ? parsed.detail : undefined;
  } catch {
    // Between restarts, not listening yet, or no JSON: Docker's own checks decide.
    return undefined;
  }
}
