import type { Policy } from './types.js';
import { validatePolicy } from './validate.js';

/**
 * Parse and validate policy text (for tests and `jit policy check`). `file` becomes Policy.file,
 * made absolute; `display` is how error messages name it (default: `file` as given).
 */
export function parsePolicy(text: string, file: string, display = file): Policy {
  return validatePolicy(text, file, display);
}
