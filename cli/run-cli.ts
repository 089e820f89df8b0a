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
  /**
   * `--json` was given: the error is also printed on stdout as one JSON document
   * `{ "error": { "code", "message", "hint"? } }`, where a script reading the result looks.
   */
  json?: { stdout(text: string): void } | undefined;
}

/** The machine-readable form of a failure under `--json`. */
export interface JsonErrorDocument {
  error: { code: string; message: string; hint?: string };
}

/**
 * The one place errors become output and exit codes. A user's mistake never shows a stack:
 * GatewayErrors print message + hint, commander's usage errors are already printed (one line
 * plus the hint set with showHelpAfterError), and only a bug gets "unexpected".
 */
export function reportError(err: unknown, io: ErrorReportIo): number {
  const json = (code: string, message: string, hint?: string): void => {
    const document: JsonErrorDocument = { error: { code, message, ...(hint ? { hint } : {}) } };
    io.json?.stdout(`${JSON.stringify(document)}\n`);
  };
  if (err instanceof CommanderError) {
    // --help and --version also arrive here, with exit code 0.
    if (err.exitCode === 0) return EXIT_OK;
    json('ERR_USAGE', err.message.replace(/^error: /, ''));
    return EXIT_USAGE;
  }
  if (isGatewayError(err)) {
    if (!err.reported) json(err.code, err.message, err.hint);
    io.stderr(`error: ${err.message}\n`);
    if (err.hint) io.stderr(`hint: ${err.hint}\n`);
    if (io.debug && err.cause instanceof Error && err.cause.stack) io.stderr(`cause: ${err.cause.stack}\n`);
    return err.code === 'ERR_USAGE' ? EXIT_USAGE : EXIT_FAILURE;
  }
  // @inquirer/prompts rejects with this when the user presses Ctrl+C at a question.
  if (err instanceof Error && err.name === 'ExitPromptError') {
    json('ERR_INTERRUPTED', 'aborted: nothing was written');
    io.stderr('aborted: nothing was written\n');
    return EXIT_INTERRUPTED;
  }
  const message = err instanceof Error ? err.message : String(err);
  json('ERR_UNEXPECTED', message, 'this looks like a bug; rerun with MCP_GATEWAY_DEBUG=1 to see where it happened');
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
