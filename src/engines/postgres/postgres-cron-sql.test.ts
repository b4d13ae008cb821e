import { describe, expect, it } from 'vitest';
import { escapeLiteral } from './postgres-quote.js';
import { MINT_LOCK_KEY, REVOKE_LOCK_CLASS, dollarQuote, isMinted, revokeSequenceGrantsBlock } from './postgres-sql.js';
import { SCHEDULE_SQL, UNSCHEDULE_SQL, UNSCHEDULE_STALE_SQL, cleanupJobSql, expireJobSql, jobNameSql } from './postgres-cron-sql.js';

const HOSTILE = ['a"b', "o'neil\\", 'x"; DROP TABLE t; --', 'a$jit$b', 'ünïcødé 🐘'] as const;
const quoted = (s: string) => '"' + s.replace(/"/g, '""') + '"';

/** The body of a DO block, with the dollar quotes it was built with. */
const bodyOf = (sql: string) => {
  const m = /^DO (\$jit\d*\$)([\s\S]*)\1$/.exec(sql);
  if (!m) throw new Error(`not a DO block: ${sql}`);
  return m[2]!;
};

describe('the pg_cron expire job', () => {
  it('checks the login, takes the revoke lock, blocks, ends sessions, then drops under the mint lock', () => {
    const l = "'jit_u'";
    expect(expireJobSql('jit_u')).toBe(
      `DO $jit$ DECLARE r oid; BEGIN PERFORM pg_catalog.set_config('lock_timeout', '60s', true); ` +
        `PERFORM pg_catalog.pg_advisory_xact_lock(${REVOKE_LOCK_CLASS}, pg_catalog.hashtext(${l})); ` +
        `SELECT x.oid INTO r FROM pg_catalog.pg_roles x WHERE x.rolname = ${l} AND ${isMinted('x')} AND x.rolvaliduntil <= pg_catalog.now(); ` +
        'IF r IS NULL THEN RETURN; END IF; ALTER ROLE "jit_u" NOLOGIN; ' +
        'PERFORM pg_catalog.pg_terminate_backend(a.pid, 5000) FROM pg_catalog.pg_stat_activity a WHERE a.usesysid = r AND a.pid <> pg_catalog.pg_backend_pid(); ' +
        'PERFORM pg_catalog.pg_stat_clear_snapshot(); IF EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a WHERE a.usesysid = r AND a.pid <> pg_catalog.pg_backend_pid()) THEN ' +
        `RAISE WARNING 'jit: % is blocked (NOLOGIN) but a session survived; jit reap finishes it', ${l}; RETURN; END IF; ` +
        `BEGIN PERFORM pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY}); ${revokeSequenceGrantsBlock(['jit_u'])}; DROP OWNED BY "jit_u"; DROP ROLE "jit_u"; ` +
        `EXCEPTION WHEN OTHERS THEN RAISE WARNING 'jit: % is blocked (NOLOGIN) but not dropped: %', ${l}, SQLERRM; END; END $jit$`,
    );
  });

  it('hands what the login owns to the policy owner, only while that is an ordinary role', () => {
    const sql = expireJobSql('jit_u', 'app_owner');
    expect(sql).toContain(`BEGIN PERFORM pg_catalog.pg_advisory_xact_lock(${MINT_LOCK_KEY}); REASSIGN OWNED BY "jit_u" TO "app_owner"; ${revokeSequenceGrantsBlock(['jit_u'])}; DROP OWNED BY "jit_u"; DROP ROLE "jit_u";`);
    expect(sql).toContain(`IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles o WHERE o.rolname = 'app_owner' AND NOT (o.rolsuper OR o.rolcreaterole`);
    expect(sql.indexOf('IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles o')).toBeLessThan(sql.indexOf('REASSIGN OWNED'));
  });

  it.each(HOSTILE)('quotes the login and the owner: %s', (name) => {
    const login = `jit_${name}`;
    const body = bodyOf(expireJobSql(login, name));
    const l = escapeLiteral(login);
    expect(body).toContain(`pg_catalog.hashtext(${l})`);
    expect(body).toContain(`WHERE x.rolname = ${l} AND`);
    expect(body).toContain(`ALTER ROLE ${quoted(login)} NOLOGIN;`);
    expect(body).toContain(`REASSIGN OWNED BY ${quoted(login)} TO ${quoted(name)}; ${revokeSequenceGrantsBlock([login])}; DROP OWNED BY ${quoted(login)}; DROP ROLE ${quoted(login)};`);
    expect(body).toContain(`o.rolname = ${escapeLiteral(name)} AND`);
    // The tag cannot occur in the body: nothing a name holds ends the block early.
    expect(expireJobSql(login, name)).toBe(`DO ${dollarQuote(body)}`);
  });

  it('refuses a login PostgreSQL would truncate', () => {
    expect(() => expireJobSql('jit_' + 'a'.repeat(60))).toThrow(/63 bytes/);
  });
});

describe('the pg_cron cleanup job', () => {
  it.each(HOSTILE)('unschedules both jobs of the login once it is no jit login: %s', (name) => {
    const login = `jit_${name}`;
    const l = escapeLiteral(login);
    expect(bodyOf(cleanupJobSql(login))).toBe(
      ` BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles x WHERE x.rolname = ${l} AND ${isMinted('x')}) THEN ` +
        'PERFORM cron.unschedule(j.jobid) FROM cron.job j WHERE j.username = current_user ' +
        `AND j.jobname::text IN (${jobNameSql('jit:expire:', l)}, ${jobNameSql('jit:cleanup:', l)}); END IF; END `,
    );
  });
});

describe('job names and schedules', () => {
  it('names a job after its login, or after its md5 where pg_cron would cut the name to 63 bytes', () => {
    expect(jobNameSql('jit:expire:', '$1::text')).toBe(
      "(CASE WHEN pg_catalog.octet_length('jit:expire:' || $1::text) <= 63 THEN 'jit:expire:' || $1::text ELSE 'jit:expire:' || '~' || pg_catalog.md5($1::text) END)",
    );
  });

  it('takes every value as a parameter: the login, both commands, the database, the expiry', () => {
    for (const n of [1, 2, 3, 4, 5]) expect(SCHEDULE_SQL).toContain(`$${n}`);
    expect(SCHEDULE_SQL).not.toMatch(/\$[6-9]/);
    expect(SCHEDULE_SQL).toContain("pg_catalog.date_trunc('minute', $5::timestamptz + interval '59.999999 seconds')");
    expect(SCHEDULE_SQL).toContain("'FMMI FMHH24 FMDD FMMM') || ' *'");
    expect(UNSCHEDULE_SQL).toContain('pg_catalog.unnest($1::text[]) AS u(l)');
  });

  it('sweeps only the admin’s own jit jobs, and only those of logins that are gone', () => {
    expect(UNSCHEDULE_STALE_SQL).toContain('WHERE j.username = current_user');
    expect(UNSCHEDULE_STALE_SQL).toContain("pg_catalog.starts_with(j.jobname::text, 'jit:expire:') OR pg_catalog.starts_with(j.jobname::text, 'jit:cleanup:')");
    expect(UNSCHEDULE_STALE_SQL).toContain(`FROM pg_catalog.pg_roles r WHERE ${isMinted('r')}`);
  });
});
