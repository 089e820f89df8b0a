import type { Server as NetServer } from 'node:net';
import type { GatewayConfig } from '../config/schema.js';
import { loopbackIfPortOnly } from '../config/listen-text.js';
import { GatewayError } from '../errors.js';

/** Where an HTTP listener binds. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** `HOST:PORT` (IPv6 in brackets), or a port alone for 127.0.0.1 → address; a usage error otherwise. */
export function parseListen(text: string): ListenAddress {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(loopbackIfPortOnly(text));
  const port = Number(match?.[2]);
  if (!match || port > 65535)
    throw new GatewayError('ERR_USAGE', `--listen ${text} is not HOST:PORT or a port`, {
      hint: 'e.g. --listen 8080 (this host only, 127.0.0.1:8080) or --listen 0.0.0.0:8080 (every interface)',
    });
  return { host: match[1]!.replace(/^\[|\]$/g, ''), port };
}

/** Where `serve` listens without --listen: `listen` from the config, else the public URL's own host and port. */
export function defaultListen(config: GatewayConfig): ListenAddress {
  if (config.listen !== undefined) return parseListen(config.listen);
  const url = config.publicUrl;
  if (url.protocol === 'https:') {
    throw new GatewayError('ERR_USAGE', `publicUrl is https (${url.origin}) but serve speaks plain HTTP`, {
      hint: 'terminate TLS in a proxy in front of the gateway and pass --listen 127.0.0.1:8080 (or set `listen:` in mcp-gateway.yaml)',
    });
  }
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port === '' ? 80 : Number(url.port) };
}

/** Listens, turning the usual bind failures into GatewayErrors with a hint (shared with the container runtimes). */
export function listenOn(server: NetServer, { host, port }: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new GatewayError('ERR_PORT_IN_USE', `${host}:${port} is already in use`, {
            hint: 'stop the program using it, or pass --listen HOST:PORT with a free port (and a matching publicUrl)',
          }),
        );
      } else if (err.code === 'EACCES') {
        reject(
          new GatewayError('ERR_LISTEN_FAILED', `not allowed to listen on ${host}:${port}`, {
            hint: 'ports below 1024 need root or CAP_NET_BIND_SERVICE; use --listen with a higher port behind a proxy',
          }),
        );
      } else if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
        reject(
          new GatewayError('ERR_LISTEN_FAILED', `${host} is not an address of this machine`, {
            hint: 'pass --listen with a local address, e.g. 127.0.0.1:8080 or 0.0.0.0:8080',
          }),
        );
      } else {
        reject(err);
      }
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
