/**
 * Whether a URL's hostname is this machine (localhost, 127.0.0.0/8, ::1): the only hosts the
 * gateway talks plain HTTP to. Its own file, free of zod, so the CLI's flag parsers can use it
 * without loading the config schema to print `--help`.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}
