import { sandboxModeOf } from '../../runtime/bridge/sandbox/confined-launch.js';
import { fail, pass, skip, warn, type CheckResult, type DoctorContext } from './doctor-check.js';

/**
 * `serve` runs every stdio server in the host's OS sandbox and refuses to start one it cannot
 * confine: this says so before `serve` does, with the install command, and names the servers
 * an operator has turned the sandbox off for.
 */
export async function checkSandbox(ctx: DoctorContext): Promise<CheckResult> {
  const check = 'sandbox';
  const stdio = Object.entries(ctx.config.servers).filter(([, server]) => !('url' in server) && !('builtin' in server));
  if (stdio.length === 0) return skip(check, 'no stdio servers to confine (remote and built-in servers need no sandbox)');
  const unsandboxed = stdio.filter(([, server]) => !('url' in server) && sandboxModeOf(server, ctx.config) === 'off').map(([name]) => name);
  const confined = stdio.length - unsandboxed.length;
  const found = ctx.deps.sandbox();
  const offNote = unsandboxed.length > 0 ? `; sandbox off (they can read the gateway's secrets): ${unsandboxed.join(', ')}` : '';
  if (found.kind === 'none') {
    if (confined === 0)
      return warn(check, `${found.reason}; every stdio server runs with the sandbox off${offNote}`, `${found.install}, then remove the sandbox: off settings`);
    const text = `${found.reason}, so serve will not start ${confined} sandboxed server(s)${offNote}`;
    // In the Docker deployment the container confines each server; the host sandbox only matters for serve.
    if (ctx.dockerReason !== undefined) return warn(check, `${text} (the Docker deployment does not need it)`, found.install);
    return fail(check, text, `${found.install}; or set sandbox: off (top-level or servers.NAME.sandbox) to run them unsandboxed at your own risk`);
  }
  const detail = `${found.kind} at ${found.path} confines ${confined} stdio server(s)${offNote}`;
  if (unsandboxed.length > 0)
    return warn(
      check,
      detail,
      `remove sandbox: off from ${unsandboxed.map((name) => `servers.${name}`).join(', ')} (grant paths with servers.NAME.mounts instead)`,
    );
  return pass(check, detail);
}
