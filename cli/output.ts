/**
 * Where commands write. Results go to stdout (so `list --json` can be piped), progress and
 * warnings to stderr. Passed in as a dependency so a command can be run without a terminal.
 */
export interface CliOutput {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processOutput: CliOutput = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};
