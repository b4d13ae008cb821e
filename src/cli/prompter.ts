import type { IO } from './io.js';
import { JitError, EXIT } from '../core/errors.js';

/** Interactive questions, always on stderr so stdout stays data. */
export interface Prompter {
  select(message: string, choices: Array<{ name: string; value: string; description?: string }>): Promise<string>;
  password(message: string): Promise<string>;
  confirm(message: string, defaultValue?: boolean): Promise<boolean>;
  input(message: string): Promise<string>;
}

function cancelled(err: unknown): never {
  // @inquirer/prompts throws ExitPromptError on Ctrl-C / Ctrl-D.
  if (err instanceof Error && err.name === 'ExitPromptError') {
    throw new JitError('cancelled', { exitCode: EXIT.cancelled });
  }
  throw err;
}

export async function inquirerPrompter(io: IO): Promise<Prompter> {
  const inquirer = await import('@inquirer/prompts');
  const context = { input: io.stdin, output: io.stderr as NodeJS.WritableStream, clearPromptOnDone: false };
  return {
    select: (message, choices) => inquirer.select({ message, choices }, context).catch(cancelled),
    password: (message) => inquirer.password({ message, mask: false }, context).catch(cancelled),
    confirm: (message, defaultValue = false) => inquirer.confirm({ message, default: defaultValue }, context).catch(cancelled),
    input: (message) => inquirer.input({ message }, context).catch(cancelled),
  };
}
