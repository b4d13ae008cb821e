import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, type JitWorld } from '../helpers/jit-cli.js';

// What `jit exec` puts in its child's environment: `--var NAME` (the URI also under the name the
// program reads), and the user's own harmless libpq settings, kept.

const pg = usePostgres(15);
let w: JitWorld;

beforeAll(async () => {
  w = await makeWorld(pg);
});
afterAll(async () => {
  await w?.cleanup();
});

describe('jit exec --var', () => {
  it('puts the URI in the named variable too, whichever parser reads the flag', async () => {
    const script = 'test -n "$DB_URL" && test "$DB_URL" = "$DATABASE_URL" && test -n "$PGPASSWORD" && echo same';
    // `--var X` after the database goes through the fast parser; `--var=X` before it, too;
    // --debug sends the command through commander.
    for (const args of [
      ['exec', 'testdb', '--role', 'readonly', '--var', 'DB_URL', '--', 'sh', '-c', script],
      ['exec', '--var=DB_URL', 'testdb', '--role', 'readonly', '--', 'sh', '-c', script],
      ['--debug', 'exec', 'testdb', '--role', 'readonly', '--var', 'DB_URL', '--', 'sh', '-c', script],
    ]) {
      const r = await w.run(args, { env: { DB_URL: 'postgresql://stale@elsewhere/db' } });
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
      expect(r.stdout.trim()).toBe('same');
    }
  });

  it('refuses a name that is not a variable, or one of jit\'s own, before minting (exit 2)', async () => {
    for (const name of ['DB-URL', '1URL', 'JIT_LEASE_ID', '']) {
      const r = await w.run(['exec', 'testdb', '--role', 'readonly', '--var', name, '--', 'true']);
      expect(r.code, name).toBe(2);
      expect(r.stderr).toMatch(/^error: --var .* is not a variable jit can set$/m);
      expect(r.stderr).not.toMatch(/^lease /m);
    }
  });
});

describe('the user\'s harmless libpq settings', () => {
  it('reach psql under jit exec: application name, time zone and date style are the user\'s', async () => {
    const r = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'psql', '-XAt', '-c', 'show application_name', '-c', 'show timezone', '-c', 'show datestyle'], {
      env: { PGAPPNAME: 'nightly-report', PGTZ: 'Asia/Tokyo', PGDATESTYLE: 'German', PGCLIENTENCODING: 'UTF8' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['nightly-report', 'Asia/Tokyo', 'German, DMY']);
  });
});
