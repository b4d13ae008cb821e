/**
 * POSIX single quoting: the only character that needs care inside '…' is ' itself, written as
 * '\''. Everything else ($, `, \, ", newlines) is literal, which makes `jit env` output safe
 * for `eval` whatever the password or host contains.
 */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** dotenv: double quotes with the characters dotenv parsers expand escaped. */
export function dotenvQuote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '\\$').replace(/\n/g, '\\n')}"`;
}
