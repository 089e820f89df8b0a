import { Box, render, Text, type Instance } from 'ink';
import { createElement as h, type ReactElement } from 'react';
import type { ServicePhase, UpEvent } from './deploy/docker/deploy-up.js';
import { noColorRequested } from '../runtime/logging/no-color.js';
import type { CliOutput } from './output.js';

/** Receives `up`'s events and shows them; `done` leaves the final state on screen. */
export interface UpProgress {
  update(event: UpEvent): void;
  done(): void;
}

interface Row {
  phase: ServicePhase;
  detail: string | undefined;
}

const MARK: Record<ServicePhase, { mark: string; color: string }> = {
  pending: { mark: '·', color: 'gray' },
  building: { mark: '…', color: 'cyan' },
  pulling: { mark: '…', color: 'cyan' },
  creating: { mark: '…', color: 'cyan' },
  recreating: { mark: '…', color: 'cyan' },
  starting: { mark: '…', color: 'cyan' },
  waiting: { mark: '…', color: 'yellow' },
  healthy: { mark: '✔', color: 'green' },
  running: { mark: '✔', color: 'green' },
  unchanged: { mark: '✔', color: 'gray' },
  failed: { mark: '✖', color: 'red' },
  'rolled back': { mark: '↺', color: 'yellow' },
  removed: { mark: '−', color: 'gray' },
};

const LABEL: Partial<Record<ServicePhase, string>> = { waiting: 'waiting for health', building: 'building image', pulling: 'pulling image' };

/**
 * One line per service (building / creating / starting / healthy / failed...): an ink view that
 * redraws in place on a terminal, plain lines (one per change) otherwise, both on stderr so
 * stdout carries only the result.
 */
export function upProgress(output: CliOutput, options: { interactive: boolean; stream?: NodeJS.WriteStream; env?: NodeJS.ProcessEnv }): UpProgress {
  const rows = new Map<string, Row>();
  const stream = options.stream ?? process.stderr;
  // ink's chalk ignores NO_COLOR (no-color.org), so the view leaves out its colours itself; the redraw still moves the cursor.
  const colored = noColorRequested(options.env) ? (): { color?: string } => ({}) : (color: string): { color?: string } => ({ color });
  // A terminal that reports no width (a pty without a size) would get one character per line.
  if (!options.interactive || !stream.columns) {
    return {
      update({ service, phase, detail }) {
        const previous = rows.get(service);
        rows.set(service, { phase, detail });
        if (phase === 'pending' || (previous?.phase === phase && previous.detail === detail)) return;
        output.stderr(`${service}: ${LABEL[phase] ?? phase}${detail ? ` (${detail})` : ''}\n`);
      },
      done() {},
    };
  }
  let instance: Instance | undefined;
  const view = (): ReactElement => {
    const width = Math.max(8, ...[...rows.keys()].map((name) => name.length));
    return h(
      Box,
      { flexDirection: 'column' },
      ...[...rows].map(([service, row]) =>
        h(
          Box,
          { key: service },
          h(Text, colored(MARK[row.phase].color), `${MARK[row.phase].mark} `),
          h(Text, null, service.padEnd(width + 2)),
          h(Text, colored(MARK[row.phase].color), LABEL[row.phase] ?? row.phase),
          row.detail ? h(Text, colored('gray'), `  ${row.detail}`) : null,
        ),
      ),
    );
  };
  return {
    update({ service, phase, detail }) {
      rows.set(service, { phase, detail });
      if (instance === undefined) instance = render(view(), { stdout: stream, patchConsole: false, exitOnCtrlC: false });
      else instance.rerender(view());
    },
    done() {
      instance?.rerender(view());
      instance?.unmount();
    },
  };
}

/**
 * `up`'s deploy step (compose or swarm) with the progress view fed by its events. On a failure
 * the view is closed first, then `explain()` (what runs and what does not) goes to stderr, and
 * the error goes on to the caller.
 */
export async function withUpProgress<T>(
  output: CliOutput,
  interactive: boolean,
  deploy: (onEvent: (event: UpEvent) => void) => Promise<T>,
  explain: () => Promise<string>,
): Promise<T> {
  const progress = upProgress(output, { interactive });
  let result: T;
  try {
    result = await deploy((event) => progress.update(event));
  } catch (err) {
    progress.done();
    output.stderr(await explain());
    throw err;
  }
  progress.done();
  return result;
}
