import { describe, expect, it } from 'vitest';
import { parseFast } from './fast-path.js';

describe('parseFast (uri/env/exec/connect without commander)', () => {
  it('parses the minting commands with global options anywhere', () => {
    expect(parseFast(['uri', 'prod-db', '--role', 'readonly', '--ttl', '10m', '--json'])).toEqual({
      command: 'uri',
      args: ['prod-db'],
      opts: { role: 'readonly', ttl: '10m', json: true, color: true, format: 'uri' },
    });
    expect(parseFast(['uri', 'db', '--role', 'r', '--format', 'jdbc'])?.opts.format).toBe('jdbc');
    expect(parseFast(['env', '--no-color', 'db', '--role=r', '-q'])).toEqual({
      command: 'env',
      args: ['db'],
      opts: { role: 'r', quiet: true, color: false, format: 'sh' },
    });
  });

  it('exec: everything after -- is the child, options included', () => {
    expect(parseFast(['exec', 'db', '--role', 'r', '--', 'psql', '-c', 'select 1', '--role', 'x'])).toEqual({
      command: 'exec',
      args: ['db', ['psql', '-c', 'select 1', '--role', 'x']],
      opts: { role: 'r', color: true, afterDashDash: ['psql', '-c', 'select 1', '--role', 'x'] },
    });
    expect(parseFast(['exec', '--role', 'r', '--', 'true'])?.opts.afterDashDash).toEqual(['true']);
  });

  it('leaves to commander what it does not fully understand', () => {
    for (const argv of [
      ['uri', '--help'],
      ['uri', '-h'],
      ['uri', 'db', '--bogus'],
      ['uri', 'db', '--role'],
      ['uri', 'a', 'b'],
      ['uri', 'a', '--', 'b'],
      ['env', 'db', '--format', 'xml'],
      ['uri', 'db', '--format', 'sh'],
      ['list'],
      ['revoke', '--all'],
      [],
    ]) {
      expect(parseFast(argv), argv.join(' ')).toBeNull();
    }
  });
});
