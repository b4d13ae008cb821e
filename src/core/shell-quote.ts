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

/**
 * fish single quoting: inside '…' fish gives meaning only to \' and \\ (a backslash before any
 * other character stays literal), so escaping those two leaves $, (, ;, * and newlines inert.
 * POSIX quoting is wrong for fish: its '\'' closes, escapes and reopens only in sh.
 */
export function fishQuote(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}
