import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { usePostgres } from '../helpers/servers.js';
import { jitRoles, leaseFiles, makeWorld, roleExists, waitFor, type JitWorld } from '../helpers/jit-cli.js';

const pg = usePostgres(15);
let w: JitWorld;
let me: RegExp;

beforeAll(async () => {
  w = await makeWorld(pg);
  me = new RegExp(`^jit_${pg.requester}_[a-z0-9]+`);
});

const sqlState = async (p: Promise<unknown>) => p.then(() => 'ok', (e: { code?: string }) => e.code ?? 'error');

describe('jit uri', () => {
  it('prints exactly one line, a URI for a login with only the granted privileges', async () => {
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--ttl', '10m']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('');
    const url = new URL(lines[0]!);
    expect(url.protocol).toBe('postgresql:');
    expect(url.username).toMatch(new RegExp(`^jit_${pg.requester}_[a-z0-9]{12}$`));
    expect(url.searchParams.get('sslmode')).toBe('disable');
    const c = await pg.connectAs(url.username, decodeURIComponent(url.password));
    try {
      expect((await c.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n).toBe(2);
      expect(await sqlState(c.query('SELECT * FROM public.secrets'))).toBe('42501');
      expect(await sqlState(c.query('INSERT INTO public.orders VALUES (9, 9, 9)'))).toBe('42501');
      expect(await sqlState(c.query('CREATE TABLE public.mine (x int)'))).toBe('42501');
    } finally {
      await c.end();
    }
    expect(r.stderr).toContain('lease ');
    expect(r.stderr).not.toContain(decodeURIComponent(url.password));
    // PostgreSQL 15 has no SET FALSE on a membership: no group role there (the login could SET
    // ROLE to it and leave objects behind); the grant is the login's own.
    const admin = await pg.admin();
    try {
      const acl = await admin.query(`SELECT a.grantee::regrole::text AS who FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = 'public.orders'::regclass`);
      const who = acl.rows.map((x) => String(x.who));
      expect(who).toContain(url.username);
      expect(who.some((x) => x.startsWith('jitgroup_'))).toBe(false);
    } finally {
      await admin.end();
    }
  });

  it('--json prints {id, database, role, user, uri, expires_at} and the server enforces the expiry', async () => {
    const before = Date.now();
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--ttl', '45m', '--json']);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(Object.keys(o).sort()).toEqual(['database', 'expires_at', 'id', 'role', 'uri', 'user']);
    expect(o).toMatchObject({ database: 'testdb', role: 'readonly' });
    expect(o.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const expires = Date.parse(o.expires_at);
    expect(expires - before).toBeGreaterThanOrEqual(45 * 60_000 - 1000);
    expect(expires - before).toBeLessThan(45 * 60_000 + 10_000);
    const admin = await pg.admin();
    try {
      const row = (await admin.query('SELECT rolvaliduntil, rolconnlimit, rolcanlogin FROM pg_roles WHERE rolname = $1', [o.user])).rows[0];
      expect(row.rolcanlogin).toBe(true);
      expect(Math.abs(row.rolvaliduntil.getTime() - expires)).toBeLessThan(1000);
      expect(row.rolconnlimit).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
  });

  it('--only narrows the request; a table outside the role is refused with exit 2', async () => {
    const r = await w.run(['uri', 'testdb', '--role', 'readonly', '--only', 'orders']);
    expect(r.code).toBe(0);
    const url = new URL(r.stdout.trim());
    const c = await pg.connectAs(url.username, decodeURIComponent(url.password));
    try {
      expect(await sqlState(c.query('SELECT * FROM public.orders'))).toBe('ok');
      expect(await sqlState(c.query('SELECT * FROM public.customers'))).toBe('42501');
    } finally {
      await c.end();
    }
    const bad = await w.run(['uri', 'testdb', '--role', 'readonly', '--only', 'secrets']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: .*secrets/m);
  });

  it('schema grants and member_of roles work through a real login', async () => {
    const rep = new URL((await w.run(['uri', 'testdb', '--role', 'reporting'])).stdout.trim());
    const c = await pg.connectAs(rep.username, decodeURIComponent(rep.password));
    try {
      expect((await c.query('SELECT count(*)::int AS n FROM reporting.daily')).rows[0].n).toBe(1);
      expect(await sqlState(c.query('SELECT * FROM public.orders'))).toBe('42501');
    } finally {
      await c.end();
    }
    const an = new URL((await w.run(['uri', 'testdb', '--role', 'analyst'])).stdout.trim());
    const d = await pg.connectAs(an.username, decodeURIComponent(an.password));
    try {
      expect(await sqlState(d.query('SELECT * FROM reporting.daily'))).toBe('ok');
      expect(await sqlState(d.query('SELECT * FROM reporting.weekly'))).toBe('42501');
    } finally {
      await d.end();
    }
  });
});

describe('jit env', () => {
  it('sh output is safe for eval and works with psql', async () => {
    const r = await w.run(['env', 'testdb', '--role', 'readonly']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^export DATABASE_URL='postgresql://jit_${pg.requester}_`, 'm'));
    expect(r.stdout).toMatch(/^export PGPASSWORD='/m);
    const out = execFileSync('sh', ['-c', 'eval "$JIT_OUT"; psql -XtAc "select current_user, (select count(*) from orders)"'], {
      env: { PATH: process.env.PATH, JIT_OUT: r.stdout },
      encoding: 'utf8',
    });
    expect(out.trim()).toMatch(new RegExp(`${me.source}\\|2$`));
  });

  it('dotenv and json formats', async () => {
    const d = await w.run(['env', 'testdb', '--role', 'readonly', '--format', 'dotenv']);
    expect(d.code).toBe(0);
    expect(d.stdout).toMatch(/^DATABASE_URL="postgresql:\/\/.+"$/m);
    expect(d.stdout).not.toContain('export ');
    const j = await w.run(['env', 'testdb', '--role', 'readonly', '--format', 'json']);
    const o = JSON.parse(j.stdout);
    expect(o.env.DATABASE_URL).toBe(o.uri);
    expect(o.env.PGUSER).toBe(o.user);
    expect(o.env.JIT_LEASE_ID).toBe(o.id);
  });
});

describe('jit exec', () => {
  it('gives the child DATABASE_URL and PG* variables, drops stale ones, returns its exit code, then revokes', async () => {
    const script = 'node -e "const e=process.env;console.log(JSON.stringify({u:e.DATABASE_URL,h:e.PGHOST,user:e.PGUSER,opt:e.PGOPTIONS??null,svc:e.PGSERVICE??null,lease:e.JIT_LEASE_ID}))"; exit 7';
    const r = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'sh', '-c', script], {
      env: { PGOPTIONS: '-c search_path=evil', PGSERVICE: 'other', PGHOST: 'elsewhere', DATABASE_URL: 'postgresql://stale@nowhere/x' },
    });
    expect(r.code).toBe(7);
    const seen = JSON.parse(r.stdout.trim());
    expect(seen.u).toMatch(new RegExp(`^postgresql://jit_${pg.requester}_`));
    expect(seen.h).toBe('127.0.0.1');
    expect(seen.opt).toBeNull();
    expect(seen.svc).toBeNull();
    expect(seen.lease).toMatch(/^[a-z0-9]{10}$/);
    expect(await roleExists(pg, seen.user)).toBe(false);
    expect(await leaseFiles(w.home)).not.toContain(`${seen.lease}.json`);
    const url = new URL(seen.u);
    expect(await sqlState(pg.connectAs(url.username, decodeURIComponent(url.password)))).toMatch(/^28/);
  });

  it('a child killed by a signal gives 128+n, and the login is still revoked', async () => {
    const r = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'sh', '-c', 'echo $PGUSER; kill -TERM $$']);
    expect(r.code).toBe(143);
    expect(await roleExists(pg, r.stdout.trim())).toBe(false);
  });

  it('SIGTERM to jit is forwarded to the child, then jit revokes', async () => {
    const child = w.start(['exec', 'testdb', '--role', 'readonly', '--', 'sh', '-c', 'trap "echo got-term; exit 3" TERM; echo $PGUSER; while :; do sleep 0.1; done']);
    // The child sets its trap before it prints: once the login is printed, SIGTERM is handled.
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin!.end();
    expect(await waitFor(() => out.includes('jit_'), 15_000)).toBe(true);
    const login = out.trim().split('\n')[0]!;
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect(out).toContain('got-term');
    expect(code).toBe(3);
    expect(await roleExists(pg, login)).toBe(false);
  });

  it('the database may be left out when the policy has one; everything after -- is the child', async () => {
    const r = await w.run(['exec', '--role', 'readonly', '--', 'sh', '-c', 'echo "$PGUSER" "$1"', 'x', '--not-an-option']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`${me.source} --not-an-option$`));
  });

  it('refuses to nest inside a live jit session, not after its lease is gone', async () => {
    const outer = JSON.parse((await w.run(['uri', 'testdb', '--role', 'readonly', '--json'])).stdout);
    const r = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'true'], { env: { JIT_LEASE_ID: outer.id } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: already inside a jit session/m);
    expect(r.stderr).toMatch(new RegExp(`^hint: .*jit revoke ${outer.id}`, 'm'));
    // `eval "$(jit env …)"` leaves JIT_LEASE_ID in the shell; once that lease is revoked it is stale.
    expect((await w.run(['revoke', outer.id])).code).toBe(0);
    const after = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'true'], { env: { JIT_LEASE_ID: outer.id } });
    expect(after.code).toBe(0);
  });

  it('the child never sees the admin password the policy reads from the environment', async () => {
    const r = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'sh', '-c', 'echo "[${JIT_TEST_ADMIN_PW:-unset}]"']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe('[unset]');
  });

  it('never puts the password on any process argv', async () => {
    const child = w.start(['exec', 'testdb', '--role', 'readonly', '--', 'sh', '-c', 'echo "$PGPASSWORD"; psql -XtAc "select pg_sleep(60)" >/dev/null']);
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin!.end();
    expect(await waitFor(() => out.includes('\n'), 15_000)).toBe(true);
    const password = out.trim();
    expect(password.length).toBeGreaterThanOrEqual(32);
    // Scan while psql runs with the credential in its environment: wait until it does.
    const read = (pid: string, what: string) => readFile(join('/proc', pid, what), 'latin1').catch(() => '');
    let psql: number | undefined;
    expect(await waitFor(async () => {
      for (const pid of await readdir('/proc')) {
        if (/^\d+$/.test(pid) && /^([^\0]*\/)?psql\0/.test(await read(pid, 'cmdline')) && (await read(pid, 'environ')).includes(`PGPASSWORD=${password}\0`)) psql = Number(pid);
      }
      return psql !== undefined;
    }, 15_000)).toBe(true);
    let scanned = 0;
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      const text = await readFile(join('/proc', pid, 'cmdline'), 'utf8').catch(() => '');
      scanned++;
      expect(text).not.toContain(password);
    }
    expect(scanned).toBeGreaterThan(5);
    process.kill(psql!, 'SIGTERM');
    await new Promise((r) => child.on('close', r));
  });

  it('a command that does not exist exits 127 and mints nothing', async () => {
    // A state directory of its own: the shared world's reaper may still be auditing what the
    // tests before this one revoked.
    const fresh = await makeWorld(pg);
    const before = await jitRoles(pg);
    const audit = () => readFile(join(fresh.home, 'audit.jsonl'), 'utf8').catch(() => '');
    const auditBefore = await audit();
    const r = await fresh.run(['exec', 'testdb', '--role', 'readonly', '--', 'no-such-command-xyz']);
    expect(r.code).toBe(127);
    expect(r.stderr).toMatch(/^error: cannot run no-such-command-xyz: command not found/m);
    expect(await jitRoles(pg)).toEqual(before);
    expect(await audit()).toBe(auditBefore);
  });
});

describe('jit list and revoke', () => {
  it('lists local leases and revokes by lease id and by login name', async () => {
    const a = JSON.parse((await w.run(['uri', 'testdb', '--role', 'readonly', '--json'])).stdout);
    const b = JSON.parse((await w.run(['uri', 'testdb', '--role', 'writer', '--json'])).stdout);
    const list = JSON.parse((await w.run(['list', '--json'])).stdout);
    const mine = list.filter((l: { id: string }) => l.id === a.id || l.id === b.id);
    expect(mine).toHaveLength(2);
    for (const l of mine) expect(Object.keys(l).sort()).toEqual(['created_at', 'database', 'expires_at', 'id', 'role', 'state', 'user']);
    expect(mine.every((l: { state: string }) => l.state === 'active')).toBe(true);

    const open = await pg.connectAs(a.user, decodeURIComponent(new URL(a.uri).password));
    const r1 = await w.run(['revoke', a.id]);
    expect(r1.code).toBe(0);
    expect(r1.stderr).toContain(`revoked ${a.user}`);
    expect(await sqlState(open.query('SELECT 1'))).not.toBe('ok');
    expect(await roleExists(pg, a.user)).toBe(false);

    const r2 = await w.run(['revoke', b.user]);
    expect(r2.code).toBe(0);
    expect(await roleExists(pg, b.user)).toBe(false);
    const after = JSON.parse((await w.run(['list', '--json'])).stdout).map((l: { id: string }) => l.id);
    expect(after).not.toContain(a.id);
    expect(after).not.toContain(b.id);

    // Revoking again succeeds (revocation succeeds when the login is gone); a typo does not.
    const again = await w.run(['revoke', a.id]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`${a.user} was already revoked`);
    const byName = await w.run(['revoke', b.user]);
    expect(byName.code).toBe(0);
    const typo = await w.run(['revoke', 'nosuchlease']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^error: no lease "nosuchlease"/m);
  });
});

describe('bad input: one error line, exit 2, nothing created on the server', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['unknown database', ['uri', 'nope', '--role', 'readonly'], /database "nope"/],
    ['unknown role', ['uri', 'testdb', '--role', 'nope'], /role "nope"/],
    ['ttl above max_ttl', ['uri', 'testdb', '--role', 'readonly', '--ttl', '2h'], /max_ttl/],
    ['ttl below 5s', ['uri', 'testdb', '--role', 'readonly', '--ttl', '3s'], /5s/],
    ['malformed ttl', ['uri', 'testdb', '--role', 'readonly', '--ttl', 'soon'], /not a duration/],
    ['missing reason', ['uri', 'testdb', '--role', 'support'], /reason/],
    ['missing role without a TTY', ['uri', 'testdb'], /missing --role/],
    ['unknown option', ['uri', 'testdb', '--rol', 'x'], /unknown option/],
    ['bad env format', ['env', 'testdb', '--role', 'readonly', '--format', 'xml'], /format/],
  ];
  for (const [name, args, re] of cases) {
    it(name, async () => {
      const before = await jitRoles(pg);
      const r = await w.run(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toMatch(/^error: /);
      expect(r.stderr.split('\n')[0]).toMatch(re);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(await jitRoles(pg)).toEqual(before);
    });
  }

  it('an invalid policy is refused before any connection, naming file:line:col', async () => {
    const bad = join(w.dir, 'bad.yaml');
    await writeFile(bad, 'version: 1\ndatabases:\n  x:\n    engine: postgres\n    host: 127.0.0.1\n    port: 1\n    database: app\n    admin: { user: a }\n    roles:\n      r:\n        grants:\n          - privileges: [SUPERUSER]\n            tables: [t]\n');
    const r = await w.run(['uri', 'x', '--role', 'r', '--policy', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:12:\d+: .*databases\.x\.roles\.r\.grants\[0\]\.privileges/);
    const check = await w.run(['policy', 'check', bad]);
    expect(check.code).toBe(2);
  });

  it('a wrong admin password is a runtime error (exit 1) with a hint and no secret', async () => {
    const r = await w.run(['uri', 'testdb', '--role', 'readonly'], { env: { JIT_TEST_ADMIN_PW: 'wrong-password-123' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: .*password authentication failed/m);
    expect(r.stderr).toMatch(/^hint: the environment variable JIT_TEST_ADMIN_PW holds a password the server refuses/m);
    expect(r.stderr).not.toContain('wrong-password-123');
  });
});

describe('admin credential sources through the CLI', () => {
  it('command: source works and admin test reports the login', async () => {
    const policy = (await readFile(w.policyFile, 'utf8')).replace('password: env:JIT_TEST_ADMIN_PW', 'password: command:printf %s "$JIT_TEST_ADMIN_PW"');
    const file = join(w.dir, 'cmd.yaml');
    await writeFile(file, policy);
    const r = await w.run(['admin', 'test', 'testdb', '--policy', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^ok: logged in as postgres@127\\.0\\.0\\.1:\\d+/${pg.database}\\b`));
  });

  it('admin test and doctor warn that a superuser admin is more than jit needs (exit 0)', async () => {
    const r = await w.run(['admin', 'test', 'testdb']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^warning: postgres is a superuser: jit needs only CREATEROLE and the grants README's non-superuser admin lists; whoever holds this credential holds the whole server$/m);
    const d = await w.run(['doctor', 'testdb']);
    expect(d.stdout).toMatch(/^warn {2}testdb: admin login: postgres is a superuser: jit needs only CREATEROLE/m);
  });

  it('admin test and doctor name what a role asks for that the server does not have', async () => {
    const policy = (await readFile(w.policyFile, 'utf8')).replace('tables: [public.orders, public.customers]', 'tables: [public.orders, public.nope]');
    const file = join(w.dir, 'missing.yaml');
    await writeFile(file, policy);
    const r = await w.run(['admin', 'test', 'testdb', '--policy', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: logged in as postgres@.*role readonly: table public\.nope does not exist/m);
    const d = await w.run(['doctor', 'testdb', '--policy', file]);
    expect(d.code).toBe(1);
    expect(d.stdout).toMatch(/^FAIL  testdb: admin login: role readonly: table public\.nope does not exist/m);
  });
});

describe('jit connect with the real psql', () => {
  it('runs psql with the credential in its environment and revokes when psql exits', async () => {
    const r = await w.run(['connect', 'testdb', '--role', 'readonly'], { input: 'select current_user;\nselect count(*) from orders;\n\\q\n' });
    expect(r.code).toBe(0);
    const login = r.stdout.match(new RegExp(`jit_${pg.requester}_[a-z0-9]+`))?.[0];
    expect(login).toBeDefined();
    expect(r.stdout).toMatch(/\b2\b/);
    expect(await roleExists(pg, login!)).toBe(false);
  });

  it('passes arguments after -- to psql', async () => {
    const r = await w.run(['connect', 'testdb', '--role', 'readonly', '--', '-XAtc', 'select current_user']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(new RegExp(`${me.source}$`));
    const bad = await w.run(['connect', 'testdb', 'extra', '--role', 'readonly']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^hint: pass arguments for the client \(psql, mariadb\) after --/m);
  });

  it("returns psql's exit code", async () => {
    const r = await w.run(['connect', 'testdb', '--role', 'readonly'], { input: '\\set ON_ERROR_STOP on\nselect * from secrets;\n' });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('permission denied');
  });

  it('says how to install psql when it is missing, before minting anything', async () => {
    const before = await jitRoles(pg);
    const r = await w.run(['connect', 'testdb', '--role', 'readonly'], { env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: psql is not installed/m);
    expect(r.stderr).toMatch(/^hint: install the PostgreSQL client/m);
    expect(await jitRoles(pg)).toEqual(before);
  });
});

describe('leases on disk', () => {
  it('hold no password, in 0600 files inside a 0700 directory', async () => {
    const { stdout } = await w.run(['uri', 'testdb', '--role', 'readonly', '--json']);
    const o = JSON.parse(stdout);
    const password = decodeURIComponent(new URL(o.uri).password);
    const files = await leaseFiles(w.home);
    expect(files).toContain(`${o.id}.json`);
    const text = await readFile(join(w.home, 'leases', `${o.id}.json`), 'utf8');
    expect(text).not.toContain(password);
    expect(JSON.parse(text).user).toBe(o.user);
    const audit = await readFile(join(w.home, 'audit.jsonl'), 'utf8');
    expect(audit).not.toContain(password);
    expect(audit).not.toContain(pg.adminPassword);
    const { statSync } = await import('node:fs');
    expect(statSync(w.home).mode & 0o777).toBe(0o700);
    expect(statSync(join(w.home, 'leases', `${o.id}.json`)).mode & 0o777).toBe(0o600);
    expect(statSync(join(w.home, 'audit.jsonl')).mode & 0o777).toBe(0o600);
  });
});
