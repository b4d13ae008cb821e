import { usageError } from '../core/errors.js';
import { registerSecret } from '../core/redact.js';

/** Reads a whole secret from stdin (`jit admin set DB --password-stdin`), dropping the one newline `echo` adds. */
export async function readSecretFromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (secret === '') {
    throw usageError('no password on stdin', `pipe it in, e.g. printf '%s' "$PW" | jit admin set DB --password-stdin`);
  }
  registerSecret(secret);
  return secret;
}
