import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fishQuote, shellQuote } from './shell-quote.js';

// Values a policy author (host, database name) or a server could put in front of `source`.
const HOSTILE = [
  "o'neil",
  "a\\'b",
  'trailing\\',
  '\\\\',
  '$HOME (echo pwned) `id` ; rm -rf /tmp/x #',
  "'; echo pwned; '",
  'line1\nline2',
  '*?[a]{b,c}~%self',
  'a"b',
  '',
];

const hasFish = spawnSync('fish', ['--version']).status === 0;

describe('fishQuote', () => {
  // Under CI a missing fish is a failure, like a missing server.
  it.skipIf(!hasFish && !process.env.CI)('real fish reads every hostile value back unchanged, and runs nothing', () => {
    const script = HOSTILE.map((v, i) => `set -gx V${i} ${fishQuote(v)}`).join('\n') + '\n' + HOSTILE.map((_, i) => `printf '%s\\0' "$V${i}"`).join('\n') + '\n';
    const r = spawnSync('fish', ['--no-config', '-c', 'cat | source'], { input: script, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE);
  });

  it('escapes only backslash and single quote', () => {
    expect(fishQuote("it's")).toBe("'it\\'s'");
    expect(fishQuote('a\\b')).toBe("'a\\\\b'");
    expect(fishQuote('$x')).toBe("'$x'");
    // The POSIX form is not fish's: its '\'' leaves fish inside a quoted string.
    expect(fishQuote("it's")).not.toBe(shellQuote("it's"));
  });
});
