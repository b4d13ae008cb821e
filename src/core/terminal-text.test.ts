import { describe, expect, it } from 'vitest';
import { escapeControl, hasControl, quoteText, safeJson } from './terminal-text.js';

const HOSTILE = 'a\u001b[2J\u001b]0;pwned\u0007b\rall clear\u0085\u009b31m\u007f\u202eevil\u202c\u2066x\u2069\u200b\ufeff';

describe('escapeControl', () => {
  it('escapes C0, DEL, C1 and bidi/format characters and nothing else', () => {
    expect(escapeControl(HOSTILE)).toBe(
      'a\\e[2J\\e]0;pwned\\u0007b\\rall clear\\u0085\\u009b31m\\u007f\\u202eevil\\u202c\\u2066x\\u2069\\u200b\\ufeff',
    );
    expect(hasControl(escapeControl(HOSTILE))).toBe(false);
  });

  it('leaves ordinary text, accents and emoji alone', () => {
    const text = 'Zoë fixes ticket #42 — “urgent” 🚑 日本語';
    expect(escapeControl(text)).toBe(text);
    expect(hasControl(text)).toBe(false);
  });

  it('keeps only the characters the caller lists', () => {
    expect(escapeControl('a\nb\tc\r', '\n')).toBe('a\nb\\tc\\r');
    expect(escapeControl('a\nb', '')).toBe('a\\nb');
  });
});

describe('safeJson', () => {
  it('escapes what JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { reason: HOSTILE };
    const text = safeJson(value);
    expect(JSON.parse(safeJson(value, 2))).toEqual(value);
    expect(hasControl(text)).toBe(false);
    expect(text).toContain('\\u202e');
    expect(text).toContain('\\u0085');
    expect(JSON.parse(text)).toEqual(value);
  });

  it('quoteText is one quoted line', () => {
    expect(quoteText('say "hi"\n\u001b[2J')).toBe('"say \\"hi\\"\\n\\u001b[2J"');
  });
});
