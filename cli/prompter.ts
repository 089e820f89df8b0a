/**
 * The questions `init` may ask. An interface so a command can be driven without a terminal;
 * the real one loads @inquirer/prompts only when a question is actually asked.
 */
export interface Prompter {
  input(question: { message: string; default?: string; validate?: (value: string) => true | string }): Promise<string>;
  password(question: { message: string; validate?: (value: string) => true | string }): Promise<string>;
  select<T extends string>(question: { message: string; choices: Array<{ value: T; name: string; description?: string }>; default?: T }): Promise<T>;
}

export const inquirerPrompter: Prompter = {
  async input(question) {
    const { input } = await import('@inquirer/prompts');
    return (await input({ ...question, required: true })).trim();
  },
  async password(question) {
    const { password } = await import('@inquirer/prompts');
    return (await password({ ...question, mask: '*' })).trim();
  },
  async select(question) {
    const { select } = await import('@inquirer/prompts');
    return select(question);
  },
};

/** Prompts only make sense when a person is at both ends of the terminal. */
export function isInteractiveTerminal(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}
