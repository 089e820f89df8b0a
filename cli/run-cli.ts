import { CommanderError } from 'commander';
import { isGatewayError } from '../runtime/errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
/** 128 + SIGINT, what a shell reports for Ctrl+C. */
export const EXIT_INTERRUPTED = 130;

export interface ErrorReportIo {
  stderr(text: string): void;
  /** MCP_GATEWAY_DEBUG=1: show stacks of unexpected errors. */
  debug: boolean;
}

/**
 * The one place errors become output and exit codes. A user's mistake never shows a stack:
 * GatewayErrors print message + hint, commander's usage errors are already printed (one line
 * plus the hint set with showHelpAfterError), and only a bug gets "unexpected".
 */
export function reportError(err: unknown, io: ErrorReportIo): number {
  if (err instanceof CommanderError) {
    // --help and --version also arrive here, with exit code 0.
    return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  if (isGatewayError(err)) {
    io.stderr(`error: ${err.message}\n`);
    if (err.hint) io.stderr(`hint: ${err.hint}\n`);
    if (io.debug && err.cause instanceof Error && err.cause.stack) io.stderr(`cause: ${err.cause.stack}\n`);
    return err.code === 'ERR_USAGE' ? EXIT_USAGE : EXIT_FAILURE;
  }
  // @inquirer/prompts rejects with this when the user presses Ctrl+C at a question.
  if (err instanceof Error && err.name === 'ExitPromptError') {
    io.stderr('aborted: nothing was written\n');
    return EXIT_INTERRUPTED;
  }
  const message = err instanceof Error ? err.message : String(err);
  io.stderr(`error: unexpected: ${message}\n`);
  if (io.debug && err instanceof Error && err.stack) {
    io.stderr(`${err.stack}\n`);
  } else {
    io.stderr('hint: this looks like a bug; rerun with MCP_GATEWAY_DEBUG=1 to see where it happened\n');
  }
  return EXIT_FAILURE;
}

/** Runs the parsed program and returns the exit code; never throws. */
export async function runCli(run: () => Promise<unknown>, io: ErrorReportIo): Promise<number> {
  try {
    await run();
    return EXIT_OK;
  } catch (err) {
    return reportError(err, io);
  }
}
