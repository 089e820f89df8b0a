import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';

/**
 * A GET from inside a running container (its node binary, docker exec): what a scraper or a
 * neighbour on the container's networks sees, for ports that are never published.
 */
export async function fetchInContainer(docker: Docker, containerId: string, url: string): Promise<{ status: number; body: string }> {
  const code =
    'fetch(process.argv[1]).then(async (r) => process.stdout.write(r.status + "\\n" + (await r.text())), (e) => process.stdout.write("0\\n" + e.message))';
  const exec = await docker.getContainer(containerId).exec({ Cmd: ['/usr/local/bin/node', '-e', code, url], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  docker.modem.demuxStream(stream, out, new PassThrough());
  await new Promise((resolve) => stream.on('end', resolve));
  const newline = text.indexOf('\n');
  return { status: Number(text.slice(0, newline)), body: text.slice(newline + 1) };
}
