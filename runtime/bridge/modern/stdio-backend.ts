import type { StdioLaunch } from '../child-process-session.js';
import { startInitializedChild } from '../initialized-child.js';
import { NativeChild } from './native-child.js';
import type { LegacyBackend } from './user-children.js';

/** 2026-07-28 clients of a stdio server: its children, probed once for the revision they speak. */
export function stdioBackend(options: { launch: StdioLaunch; maxMessageBytes: number; requestTimeoutMs: number }): LegacyBackend {
  const { launch, maxMessageBytes, requestTimeoutMs } = options;
  return {
    start: (template, logger, timeoutMs) => startInitializedChild({ launch, logger, template, timeoutMs, maxMessageBytes }),
    probeNative: (probe) => NativeChild.probe({ ...probe, launch, maxMessageBytes, requestTimeoutMs }),
  };
}
