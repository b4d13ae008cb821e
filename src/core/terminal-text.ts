/**
 * Text that others wrote (a `--reason`, a session's query, a server or driver message, a policy
 * key) must not drive the reader's terminal: ESC sequences clear the screen or rewrite lines,
 * CR overwrites a line with a fake "all clear", bidi overrides reorder what is shown.
 *
 * Escaped: C0 controls (except those the caller keeps), DEL, C1 controls, and the Unicode
 * format characters that reorder or hide text (bidi embeddings/overrides/isolates, marks, zero
 * width characters, line/paragraph separators, BOM).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

// What JSON.stringify leaves raw inside strings (it escapes C0 itself; its own layout uses \n).
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(4, '0');

/** Readable escape of one character: `\n`, `\r`, `\t`, `\e`, else `\uXXXX`. */
function show(c: string): string {
  switch (c) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\u001b':
      return '\\e';
    default:
      return `\\u${hex(c)}`;
  }
}

/** Whether `text` holds a character escapeControl() would escape. */
export function hasControl(text: string): boolean {
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text);
}

/**
 * `text` with every unsafe character shown as an escape. `keep` lists characters to leave alone,
 * e.g. '\n' for multi-line output jit itself laid out.
 */
export function escapeControl(text: string, keep = ''): string {
  return text.replace(UNSAFE, (c) => (keep.includes(c) ? c : show(c)));
}

/**
 * JSON for stdout. JSON.stringify already escapes C0 but leaves DEL, C1 and bidi/format
 * characters raw; those become `\uXXXX`, which every JSON parser reads back unchanged.
 */
export function safeJson(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c)}`);
}

/** `"text"` quoted for one line (`reason="…"` in `jit audit`): quotes, backslashes and controls escaped. */
export function quoteText(text: string): string {
  return safeJson(text);
}
