import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The watchdog's program, POSIX sh with builtins only: it learns process groups from lines on
 * stdin (`+PGID` when a server starts, `-PGID` when it is gone) and, when stdin ends because the
 * gateway is gone (a `kill -9`, an OOM kill, a crash), sends them SIGTERM and, two seconds
 * later, SIGKILL. Signals from the terminal are ignored so that Ctrl+C reaches the gateway's
 * orderly shutdown, which stops the servers itself.
 */
// No `--` before the negative pid: dash's kill builtin (Debian's /bin/sh) refuses it.
const WATCHDOG_SCRIPT = `trap '' INT TERM HUP
groups=" "
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups\${line#+} " ;;
    -*) gone=\${line#-}; kept=" "
        for g in $groups; do [ "$g" = "$gone" ] || kept="$kept$g "; done
        groups=$kept ;;
  esac
done
[ "$groups" = " " ] && exit 0
for g in $groups; do kill -TERM "-$g" 2>/dev/null; done
sleep 2
for g in $groups; do kill -KILL "-$g" 2>/dev/null; done
`;

let watchdog: ChildProcess | undefined;
let unavailable = false;

/**
 * A process of its own that outlives the gateway, so that no MCP server does: a child that
 * ignores stdin EOF and SIGTERM used to outlive a `kill -9`ed gateway forever. Node has no
 * PR_SET_PDEATHSIG, and the `exit` hook in process-group.ts never runs on SIGKILL. Sandboxed
 * servers also die with bubblewrap (--die-with-parent); this covers `sandbox: off` and the
 * process groups npx and uvx leave behind. Started on first use; one per gateway process.
 */
export function tellWatchdog(line: `+${number}` | `-${number}`): void {
  if (unavailable || process.platform === 'win32') return;
  if (watchdog === undefined) {
    try {
      watchdog = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    } catch {
      unavailable = true;
      return;
    }
    watchdog.on('error', () => {
      unavailable = true;
    });
    watchdog.stdin?.on('error', () => {
      unavailable = true;
    });
    // Neither the process nor its pipe keeps the gateway's event loop alive.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }
  watchdog.stdin?.write(`${line}\n`);
}

/** The watchdog's pid (tests check it ends with the gateway). */
export function watchdogPid(): number | undefined {
  return watchdog?.pid;
}
