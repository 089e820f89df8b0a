import { spawn } from 'node:child_process';

/**
 * Asks the desktop to open `url` (xdg-open, open, or start). Best effort: on a server without a
 * desktop nothing happens, and the URL is printed anyway, so every failure is ignored.
 */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform): void {
  const [command, args] =
    platform === 'darwin'
      ? ['open', [url]]
      : platform === 'win32'
        ? // `start` is a cmd builtin; its first quoted argument is a window title.
          ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true, windowsHide: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener on this system
  }
}
