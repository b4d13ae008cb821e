import type { Deps } from '../deps.js';
import { usageError } from '../../core/errors.js';
import { SHELLS } from '../command-table.js';
import { printData } from '../output.js';
import { completionScript } from '../completion-scripts.js';

/** `jit completion bash|zsh|fish`: the script that asks `jit __complete` on Tab. */
export async function run([shell]: [string], _flags: unknown, deps: Deps): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw usageError(`no completion for the shell ${JSON.stringify(shell)}`, `use one of ${SHELLS.join(', ')}: jit completion bash`);
  }
  printData(deps.io, completionScript(shell as (typeof SHELLS)[number]));
  return 0;
}
