import { describe, expect, it } from 'vitest';
import { complete, formatAnswer, runComplete, type CompletionSources } from './complete.js';

const flags: Array<string | undefined> = [];
const sources: CompletionSources = {
  databases: async (policyFlag) => {
    flags.push(policyFlag);
    return [
      { name: 'prod-db', about: 'postgres db:5432/app', roles: [{ name: 'readonly', about: 'prod-db' }, { name: 'support' }] },
      { name: 'shop', about: 'mysql', roles: [{ name: 'analyst' }, { name: 'readonly' }] },
    ];
  },
  leases: async () => [{ name: 'abc123', about: 'prod-db readonly' }],
};
const names = async (...words: string[]) => formatAnswer(await complete(words, sources), words.at(-1)!).split('\n').filter(Boolean).map((l) => l.split('\t')[0]);

describe('jit __complete', () => {
  it('commands, subcommands, operands and flag values from the command table', async () => {
    expect(await names('')).toContain('completion');
    expect(await names('')).not.toContain('__complete');
    expect(await names('policy', '')).toEqual(['check']);
    expect(await names('completion', '')).toEqual(['bash', 'zsh', 'fish']);
    expect(await names('audit', '--since', '')).toEqual(['1h', '24h', '7d']);
    expect(await names('uri', 'prod-db', '--reason', '')).toEqual([]);
  });

  it('roles of the database named before --role, else of every database once', async () => {
    expect(await names('uri', 'shop', '--role', '')).toEqual(['analyst', 'readonly']);
    expect(await names('uri', '--role', '')).toEqual(['readonly', 'support', 'analyst']);
    expect(await names('uri', '--ttl', '5m', 'prod-db', '--role=s')).toEqual(['--role=support']);
  });

  it('reads the policy named by --policy, wherever it is on the line', async () => {
    flags.length = 0;
    await names('--policy', 'a.yaml', 'uri', '');
    await names('uri', '--policy=b.yaml', '');
    await names('uri', '');
    expect(flags).toEqual(['a.yaml', 'b.yaml', undefined]);
  });

  it('after exec/connect --, and for a file operand, the shell completes file names', async () => {
    expect(formatAnswer(await complete(['exec', 'db', '--', ''], sources), '')).toBe(':files\n');
    expect(formatAnswer(await complete(['connect', '--', '-'], sources), '-')).toBe(':files\n');
    expect(formatAnswer(await complete(['init', ''], sources), '')).toBe(':files\n');
    expect(formatAnswer(await complete(['--policy', ''], sources), '')).toBe(':files\n');
  });

  it('leaves out names a shell cannot insert, and escapes control characters in descriptions', () => {
    const out = formatAnswer(
      {
        candidates: [{ name: 'ok', about: 'red \u001b[31m\tline\nbreak' }, { name: 'bad\u001b[2J' }, { name: 'two words' }, { name: 'rtl\u202e' }],
        files: false,
      },
      '',
    );
    expect(out).toBe('ok\tred \\e[31m\\tline\\nbreak\n');
  });

  it('prints nothing and exits 0 when the policy or state cannot be read', async () => {
    const writes: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((s: string) => (writes.push(s), true)) as typeof write;
    try {
      const env = { HOME: '/nonexistent', JIT_HOME: '/nonexistent/state', JIT_POLICY: '/nonexistent/jit.yaml' };
      expect(await runComplete(['uri', ''], env, '/')).toBe(0);
      expect(await runComplete(['revoke', ''], env, '/')).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(writes.join('')).toBe('');
  });
});
