/**
 * Every command of DESIGN §1 on MariaDB through the built binary, and what is MariaDB's own: the
 * real `mariadb` client in a terminal, its option file, the client variables, doctor's notes on
 * the event scheduler and anonymous accounts, the event backstop with the reaper killed, the
 * general log, a long OS user name. The cross-engine contract (grants, revoke ending a session,
 * hostile names, extend, name limits) is test/contract's.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { useMariadb } from '../helpers/servers.js';
import { shellQuote } from '../../src/core/shell-quote.js';
import { JIT_BIN, makeWorld, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { startInTmux, type Term } from '../helpers/tmux.js';
import { accountHosts, jitAccounts, ledgerRow, mysqlCanLogin, mysqlPolicy, mysqlSession, mysqlSessionAlive, threadsOf, uriParts } from '../helpers/mysql-cli.js';
import { isAlive, processesOfHome, reaperPid, type UriJson } from './support.js';

const execFileP = promisify(execFile);

/** `jit uri testdb …` as JSON; fails the test on a non-zero exit. */
async function mint(w: JitWorld, args: string[], env: NodeJS.ProcessEnv = {}): Promise<UriJson & { password: string }> {
  const res = await w.run(['uri', 'testdb', ...args, '--json'], { env });
  expect(res.code, `jit uri ${args.join(' ')} failed: ${res.stderr}`).toBe(0);
  const out = JSON.parse(res.stdout) as UriJson;
  return { ...out, password: uriParts(out.uri).password };
}

/** The `mariadb` client with a URI's parts (password through MYSQL_PWD, never argv). */
function mariadbWith(uri: string, sql: string): Promise<{ stdout: string; stderr: string }> {
  const p = uriParts(uri);
  return execFileP('mariadb', ['--protocol=TCP', '-h', p.host, '-P', String(p.port), '-u', p.user, '-N', '-B', '-e', sql, p.database], {
    env: { PATH: process.env.PATH, HOME: '/nonexistent', MYSQL_PWD: p.password },
    timeout: 20_000,
  });
}

/** MariaDB's mysql_native_password hash: `*` + SHA1(SHA1(pw)), upper-case hex. */
const nativeHash = (pw: string) => '*' + createHash('sha1').update(createHash('sha1').update(pw).digest()).digest('hex').toUpperCase();

/** The real mariadb client on PATH. */
function realMariadb(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && existsSync(join(dir, 'mariadb'))) return join(dir, 'mariadb');
  throw new Error('the mariadb client is not on PATH: apt-get install -y mariadb-client');
}

describe('MariaDB through the CLI (shared server)', () => {
  const server = useMariadb();
  let w: JitWorld;
  const terms: Term[] = [];
  const opened: mysql.Connection[] = [];

  beforeAll(async () => {
    w = await makeWorld(server, { policy: mysqlPolicy(server) });
  });
  afterAll(async () => {
    terms.forEach((t) => t.kill());
    await Promise.all(opened.map((c) => c.end().catch(() => c.destroy())));
    // This world's leases only: revoke --all would reach the logins of files running beside this one.
    if (w) for (const l of JSON.parse((await w.run(['list', '--json'])).stdout || '[]') as Array<{ id: string }>) await w.run(['revoke', l.id]);
    await w?.cleanup();
  });

  function term(name: string, args: string): Term {
    const t = startInTmux(name, w.dir, { ...w.env, TERM: 'xterm-256color', PAGER: 'cat' }, `${process.execPath} ${JIT_BIN} ${args}`);
    terms.push(t);
    return t;
  }

  it('uri: mysql:// that mysql2 takes as-is and the mariadb client takes by its parts; revoke ends it', async () => {
    const m = await mint(w, ['--role', 'readonly', '--ttl', '10m']);
    expect(m.uri).toMatch(new RegExp(`^mysql://${m.user}:[^@]+@127\\.0\\.0\\.1:${server.port}/${server.database}$`));
    expect(m.user).toMatch(new RegExp(`^jit_${server.requester}_[a-z0-9]{10,}$`));
    const c = await mysql.createConnection(m.uri);
    c.on('error', () => {});
    opened.push(c);
    const [rows] = await c.query('SELECT id FROM orders ORDER BY id');
    expect(rows).toEqual([{ id: 1 }, { id: 2 }]);
    const cli = await mariadbWith(m.uri, 'SELECT CURRENT_USER(), COUNT(*) FROM orders');
    expect(cli.stdout.trim()).toBe(`${m.user}@%\t2`);
    const rev = await w.run(['revoke', m.id]);
    expect(rev.code, rev.stderr).toBe(0);
    expect(await mysqlSessionAlive(c)).toBe(false);
    expect(await mysqlCanLogin(m.uri)).toBe(false);
    expect(await accountHosts(server, m.user)).toEqual([]);
  });

  it('env: sh, dotenv and json carry DATABASE_URL and the MYSQL_* variables; eval then mariadb works', async () => {
    const sh = await w.run(['env', 'testdb', '--role', 'readonly']);
    expect(sh.code, sh.stderr).toBe(0);
    const names = [...sh.stdout.matchAll(/^export ([A-Z_]+)=/gm)].map((x) => x[1]).sort();
    expect(names).toEqual(['DATABASE_URL', 'JIT_LEASE_ID', 'MYSQL_HOST', 'MYSQL_PWD', 'MYSQL_TCP_PORT', 'MYSQL_USER']);
    // eval in a shell, then the client reads host, port and password from the environment.
    const script = `eval "$(cat)" && mariadb --protocol=TCP -u "$MYSQL_USER" -N -B -e 'select 1, current_user()' && echo "URL=$DATABASE_URL"`;
    const { stdout } = await new Promise<{ stdout: string }>((resolve, reject) => {
      const child = execFile('sh', ['-c', script], { env: { PATH: process.env.PATH, HOME: '/nonexistent' }, timeout: 20_000 }, (err, out) => (err ? reject(err) : resolve({ stdout: out })));
      child.stdin!.end(sh.stdout);
    });
    const user = /MYSQL_USER='([^']+)'/.exec(sh.stdout)![1]!;
    expect(stdout).toContain(`1\t${user}@%`);
    expect(stdout).toMatch(new RegExp(`URL=mysql://${user}:`));

    const dotenv = await w.run(['env', 'testdb', '--role', 'readonly', '--format', 'dotenv']);
    expect(dotenv.code, dotenv.stderr).toBe(0);
    const kv = Object.fromEntries(dotenv.stdout.trim().split('\n').map((l) => { const i = l.indexOf('='); return [l.slice(0, i), l.slice(i + 1).replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1')]; }));
    expect(Object.keys(kv).sort()).toEqual(['DATABASE_URL', 'JIT_LEASE_ID', 'MYSQL_HOST', 'MYSQL_PWD', 'MYSQL_TCP_PORT', 'MYSQL_USER']);
    expect(kv.MYSQL_HOST).toBe('127.0.0.1');
    expect(kv.MYSQL_TCP_PORT).toBe(String(server.port));
    expect(uriParts(kv.DATABASE_URL!).password).toBe(kv.MYSQL_PWD);
    expect(await mysqlCanLogin(kv.DATABASE_URL!)).toBe(true);

    const json = await w.run(['env', 'testdb', '--role', 'readonly', '--format', 'json']);
    expect(json.code, json.stderr).toBe(0);
    const j = JSON.parse(json.stdout) as UriJson & { env: Record<string, string> };
    expect(j.env).toMatchObject({ MYSQL_HOST: '127.0.0.1', MYSQL_TCP_PORT: String(server.port), MYSQL_USER: j.user, DATABASE_URL: j.uri });
    expect(j.env.MYSQL_PWD).toBe(uriParts(j.uri).password);
    expect(await mysqlCanLogin(j.uri)).toBe(true);
  });

  it('exec: the child gets DATABASE_URL and MYSQL_*, the mariadb client works from them, its exit code passes through, the login is revoked', async () => {
    const script = `mariadb --protocol=TCP -u "$MYSQL_USER" -N -B -e 'select current_user(), count(*) from orders' "$(echo "$DATABASE_URL" | sed 's,.*/,,')" && echo "USER=$MYSQL_USER" && exit 7`;
    const res = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'sh', '-c', script]);
    expect(res.code, res.stderr).toBe(7);
    const user = /USER=(\S+)/.exec(res.stdout)![1]!;
    expect(res.stdout).toContain(`${user}@%\t2`);
    expect(res.stderr).toContain(`revoked ${user}`);
    expect(await accountHosts(server, user)).toEqual([]);
    expect(await ledgerRow(server, user)).toBeUndefined();
  });

  it('connect -- -e: the arguments reach the client, the option file is gone afterwards, the login is revoked', async () => {
    const res = await w.run(['connect', 'testdb', '--role', 'readonly', '--', '-N', '-B', '-e', 'select current_user(), count(*) from orders']);
    expect(res.code, res.stderr).toBe(0);
    const [user, n] = res.stdout.trim().split('\t');
    expect(user).toMatch(new RegExp(`^jit_${server.requester}_[a-z0-9]+@%$`));
    expect(n).toBe('2');
    const login = user!.replace(/@%$/, '');
    expect(res.stderr).toContain(`revoked ${login}`);
    expect(await accountHosts(server, login)).toEqual([]);
    const failing = await w.run(['connect', 'testdb', '--role', 'readonly', '--', '-e', 'select * from secrets']);
    expect(failing.code).toBe(1); // the client's own exit code
    expect(failing.stderr).toMatch(/SELECT command denied/);
  });

  it('connect in a terminal: a query at the prompt, Ctrl-C cancels SLEEP(30) and the prompt comes back, quit revokes; the 0600 option file holds the password and is removed, argv never does', async () => {
    const before = await jitAccounts(server);
    const t = term('connect', 'connect testdb --role readonly');
    expect(await t.waitFor(/MariaDB \[[^\]]+\]>/)).toBe(true);
    const minted = (await jitAccounts(server)).filter((a) => !before.includes(a));
    expect(minted).toHaveLength(1);
    const login = minted[0]!;
    // The running client: its argv names the option file and holds no password.
    const clientPid = processesOfHome(w.home).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0]!.endsWith('mariadb'));
    expect(clientPid, 'the mariadb client should be running').toBeDefined();
    const argv = readFileSync(`/proc/${clientPid}/cmdline`, 'latin1').split('\0');
    const optArg = argv.find((a) => a.startsWith('--defaults-extra-file='));
    expect(optArg).toBeDefined();
    const optFile = optArg!.slice('--defaults-extra-file='.length);
    expect(statSync(optFile).mode & 0o777).toBe(0o600);
    const text = readFileSync(optFile, 'utf8');
    const password = /^password="(.+)"$/m.exec(text)?.[1];
    expect(password).toBeDefined();
    expect(text).toContain(`user="${login}"`);
    for (const pid of processesOfHome(w.home)) {
      expect(readFileSync(`/proc/${pid}/cmdline`, 'latin1')).not.toContain(password!);
    }
    // No MYSQL_PWD: the client reads the password from the option file.
    expect(readFileSync(`/proc/${clientPid}/environ`, 'latin1').split('\0').filter((e) => e.startsWith('MYSQL_PWD='))).toEqual([]);

    t.type('select current_user() as me, count(*) as n from orders;');
    t.send('Enter');
    expect(await t.waitFor(new RegExp(`\\| ${login}@% \\|\\s+2 \\|`))).toBe(true);

    t.type('select sleep(30);');
    t.send('Enter');
    expect(await waitFor(async () => (await threadsOf(server, login!)).some((r) => /sleep\(30\)/i.test(String(r.info ?? ''))), 15_000)).toBe(true);
    t.send('C-c');
    expect(await t.waitFor(/Query execution was interrupted|Ctrl-C -- query killed/)).toBe(true);
    expect(await waitFor(async () => !(await threadsOf(server, login!)).some((r) => /sleep\(30\)/i.test(String(r.info ?? ''))), 15_000)).toBe(true);
    // The client is still there: the next query runs in the same session.
    t.type('select 40 + 2 as answer;');
    t.send('Enter');
    expect(await t.waitFor(/\|\s+42 \|/)).toBe(true);
    expect(isAlive(clientPid!)).toBe(true);
    expect(await accountHosts(server, login!)).toEqual(['%']);

    t.type('quit');
    t.send('Enter');
    expect(await t.waitFor(/EXIT=0/)).toBe(true);
    expect(t.screen()).toContain(`revoked ${login}`);
    expect(existsSync(optFile)).toBe(false);
    expect(await accountHosts(server, login!)).toEqual([]);
    expect(await ledgerRow(server, login!)).toBeUndefined();
  });

  it('doctor: ok lines for the database (admin login, event scheduler, client), and the same as JSON; exit 0', async () => {
    const res = await w.run(['doctor', 'testdb']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const lines = res.stdout.trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('ok  '))).toEqual([]);
    expect(res.stdout).toContain(`ok    testdb: admin login: ${server.adminUser}@127.0.0.1:${server.port}/${server.database} can grant every role, and revoke`);
    expect(res.stdout).toMatch(/^ok {4}testdb: event scheduler: ON: /m);
    expect(res.stdout).toMatch(/^ok {4}testdb: client: \/\S+\/mariadb$/m);
    expect(res.stdout).not.toContain('anonymous');
    const json = await w.run(['doctor', 'testdb', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const checks = JSON.parse(json.stdout) as Array<{ name: string; ok: boolean; detail: string; warning?: boolean }>;
    expect(checks.every((c) => c.ok && !c.warning)).toBe(true);
    expect(checks.map((c) => c.name)).toEqual(expect.arrayContaining(['policy', 'testdb: admin credential', 'testdb: admin login', 'testdb: event scheduler', 'testdb: client', 'reaper', 'state directory']));
  });

  it('no plaintext password reaches the general log across uri, extend, revoke, exec and connect; the hashes do', async () => {
    const passwords: string[] = [];
    const logins: string[] = [];
    const m = await mint(w, ['--role', 'readonly', '--ttl', '10m']);
    passwords.push(m.password);
    logins.push(m.user);
    expect(await mysqlCanLogin(m.uri)).toBe(true);
    const ext = await w.run(['extend', m.id, '--ttl', '20m']);
    expect(ext.code, ext.stderr).toBe(0);
    const rev = await w.run(['revoke', m.id]);
    expect(rev.code, rev.stderr).toBe(0);

    const ex = await w.run(['exec', 'testdb', '--role', 'writer', '--', 'sh', '-c', 'printf "%s %s" "$MYSQL_USER" "$MYSQL_PWD"']);
    expect(ex.code, ex.stderr).toBe(0);
    const [exUser, exPw] = ex.stdout.split(' ');
    logins.push(exUser!);
    passwords.push(exPw!);

    // A mariadb on PATH ahead of the real one keeps a copy of the option file it was given.
    const bin = join(w.dir, 'bin');
    const capture = join(w.dir, 'captured.cnf');
    const captureEnv = join(w.dir, 'captured.env');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'mariadb'), `#!/bin/sh\nenv > ${shellQuote(captureEnv)}\nfor a in "$@"; do case "$a" in --defaults-extra-file=*) cp "\${a#--defaults-extra-file=}" ${shellQuote(capture)};; esac; done\nexec ${shellQuote(realMariadb())} "$@"\n`, { mode: 0o755 });
    const con = await w.run(['connect', 'testdb', '--role', 'readonly', '--', '-N', '-B', '-e', 'select current_user()'], { env: { PATH: `${bin}:${w.env.PATH}` } });
    expect(con.code, con.stderr).toBe(0);
    const captured = readFileSync(capture, 'utf8');
    const conUser = /^user="(.+)"$/m.exec(captured)![1]!;
    expect(con.stdout.trim()).toBe(`${conUser}@%`);
    logins.push(conUser);
    const conPw = /^password="(.+)"$/m.exec(captured)![1]!;
    passwords.push(conPw);
    // The option file is the only place the client finds the password: not DATABASE_URL, not MYSQL_PWD.
    const clientEnv = readFileSync(captureEnv, 'utf8');
    expect(clientEnv).not.toContain(conPw);
    expect(clientEnv).not.toContain(encodeURIComponent(conPw));
    expect(clientEnv).not.toMatch(/^(DATABASE_URL|MYSQL_PWD)=/m);
    expect(clientEnv).toMatch(/^JIT_LEASE_ID=/m);

    // Every login was created and dropped, and the server has written that down by now.
    const log = () => readFile(server.generalLogFile, 'latin1');
    expect(await waitFor(async () => { const l = await log(); return logins.every((u) => l.includes(`DROP USER IF EXISTS \`${u}\`@\`%\``)); }, 20_000)).toBe(true);
    const text = await log();
    for (const [i, u] of logins.entries()) {
      expect(text).toContain(`CREATE USER \`${u}\`@\`%\` IDENTIFIED BY PASSWORD '${nativeHash(passwords[i]!)}'`);
      expect(text).not.toContain(passwords[i]!);
      expect(text).not.toContain(encodeURIComponent(passwords[i]!));
    }
  });

  it('a long OS user name (60+ characters) works end to end: a 32-character login, the full name in the ledger and the audit trail', async () => {
    const requester = `${server.requester}.firstname-middlename.lastname@department.corp.example.ldap`;
    expect(requester.length).toBeGreaterThanOrEqual(60);
    const env = { JIT_REQUESTER: requester };
    const m = await mint(w, ['--role', 'readonly', '--ttl', '10m'], env);
    expect(m.user).toHaveLength(32);
    expect(m.user).toMatch(/^jit_[a-z0-9]+_[a-z0-9]{12}$/);
    expect(m.user.startsWith(`jit_${server.requester}`)).toBe(true);
    expect(await mysqlCanLogin(m.uri)).toBe(true);
    expect(await ledgerRow(server, m.user)).toMatchObject({ requester, lease_id: m.id });
    const list = JSON.parse((await w.run(['list', '--all', '--json'], { env })).stdout) as Array<{ id: string; user: string; state: string }>;
    expect(list).toContainEqual(expect.objectContaining({ id: m.id, user: m.user }));
    const rev = await w.run(['revoke', m.id], { env });
    expect(rev.code, rev.stderr).toBe(0);
    expect(await accountHosts(server, m.user)).toEqual([]);

    const con = await w.run(['connect', 'testdb', '--role', 'readonly', '--', '-N', '-B', '-e', 'select current_user()'], { env });
    expect(con.code, con.stderr).toBe(0);
    const conUser = con.stdout.trim().replace(/@%$/, '');
    expect(conUser).toHaveLength(32);
    expect(await accountHosts(server, conUser)).toEqual([]);
    const ex = await w.run(['exec', 'testdb', '--role', 'readonly', '--', 'sh', '-c', 'mariadb --protocol=TCP -u "$MYSQL_USER" -N -B -e "select count(*) from orders" ' + server.database], { env });
    expect(ex.code, ex.stderr).toBe(0);
    expect(ex.stdout.trim()).toBe('2');
    const audit = JSON.parse((await w.run(['audit', '--json'], { env })).stdout) as Array<Record<string, unknown>>;
    expect(audit).toContainEqual(expect.objectContaining({ event: 'mint', login: m.user, requester }));

    // Up to 255 characters (what the ledger holds, in characters, not bytes) it is recorded whole;
    // past that jit refuses before it touches the server.
    const longest = `${server.requester}.${'ü'.repeat(255 - server.requester.length - 1)}`;
    const big = await mint(w, ['--role', 'readonly', '--ttl', '1m'], { JIT_REQUESTER: longest });
    expect(await ledgerRow(server, big.user)).toMatchObject({ requester: longest });
    expect((await w.run(['revoke', big.id])).code).toBe(0);
    const leasesBefore = (await w.run(['list', '--json'])).stdout;
    const refused = await w.run(['uri', 'testdb', '--role', 'readonly'], { env: { JIT_REQUESTER: `${longest}x` } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error: the requester name is 256 characters long; at most 255 are accepted');
    expect((await w.run(['list', '--json'])).stdout).toBe(leasesBefore);
    // Nothing reached the server: no account for the name that requester would have had.
    const root = await server.admin();
    try {
      const [rows] = await root.query("SELECT User FROM mysql.user WHERE User LIKE ?", [`jit\\_${server.requester}x\\_%`]);
      expect(rows).toEqual([]);
    } finally {
      await root.end();
    }
  });

  it('admin test: the least-privileged jitadmin can grant every role and revoke', async () => {
    const res = await w.run(['admin', 'test', 'testdb']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain(`ok: logged in as ${server.adminUser}@127.0.0.1:${server.port}/${server.database}`);
    const json = await w.run(['admin', 'test', 'testdb', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, problems: [] });
  });
});

// Exclusive: SET GLOBAL event_scheduler, an anonymous account and a killed reaper are server-wide.
describe('MariaDB server-wide specifics (exclusive server)', () => {
  const server = useMariadb({ exclusive: true });
  let w: JitWorld;
  const opened: mysql.Connection[] = [];

  beforeAll(async () => {
    w = await makeWorld(server, { policy: mysqlPolicy(server) });
  });
  afterAll(async () => {
    await Promise.all(opened.map((c) => c.end().catch(() => c.destroy())));
    await w?.cleanup();
  });

  it('with the reaper killed (-9) and no jit running, the server\'s event drops the expired login and ends its open session', async () => {
    const m = await mint(w, ['--role', 'short', '--ttl', '5s']);
    const pid = await reaperPid(w.home);
    expect(pid, 'uri should have started the reaper').not.toBeNull();
    process.kill(pid!, 'SIGKILL');
    expect(await waitFor(() => !isAlive(pid!), 5_000)).toBe(true);
    expect(Date.now()).toBeLessThan(Date.parse(m.expires_at)); // killed before it could act
    const c = await mysqlSession(m.uri);
    opened.push(c);
    expect(await accountHosts(server, m.user)).toEqual(['%']);
    // Nothing of jit runs from here on: only the server can act.
    expect(await waitFor(async () => (await accountHosts(server, m.user)).length === 0, 60_000, 250)).toBe(true);
    expect(await waitFor(async () => (await threadsOf(server, m.user)).length === 0, 30_000, 250)).toBe(true);
    expect(await mysqlSessionAlive(c)).toBe(false);
    expect(await mysqlCanLogin(m.uri)).toBe(false);
    expect(await ledgerRow(server, m.user)).toBeUndefined();
    expect(await reaperPid(w.home)).toBeNull();
    expect(processesOfHome(w.home)).toEqual([]);
    // The next jit command finds the lease's login gone and forgets it.
    const rev = await w.run(['revoke', m.id]);
    expect(rev.code, rev.stderr).toBe(0);
  });

  it('doctor with the event scheduler OFF warns and says what that means; exit 0', async () => {
    await server.configure({ event_scheduler: 'OFF' });
    try {
      const res = await w.run(['doctor', 'testdb']);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      const line = res.stdout.split('\n').find((l) => l.includes('testdb: event scheduler'));
      expect(line).toMatch(/^warn {2}testdb: event scheduler: OFF: expired logins are dropped only by jit's reaper or `jit reap`/);
      expect(line).toContain('SET GLOBAL event_scheduler = ON');
      const json = JSON.parse((await w.run(['doctor', 'testdb', '--json'])).stdout) as Array<{ name: string; ok: boolean; warning?: boolean; detail: string }>;
      expect(json.find((c) => c.name === 'testdb: event scheduler')).toMatchObject({ ok: true, warning: true, detail: expect.stringMatching(/^OFF: /) });
    } finally {
      await server.configure({ event_scheduler: 'ON' });
    }
  });

  describe('with an anonymous \'\'@\'localhost\' account', () => {
    beforeAll(async () => {
      const root = await server.admin();
      try {
        await root.query("CREATE USER ''@'localhost'");
      } finally {
        await root.end();
      }
      server.track({ cleanup: async () => { const r = await server.admin(); await r.query(`DROP USER IF EXISTS ''@'localhost', \`${server.adminUser}\`@'localhost'`).finally(() => r.end()); } });
    });

    /** `jitadmin`@'localhost' with the password and grants of `jitadmin`@'%', as a DBA would add it. */
    async function adminAlsoAtLocalhost(): Promise<void> {
      const root = await server.admin();
      try {
        const [grants] = await root.query(`SHOW GRANTS FOR \`${server.adminUser}\`@'%'`);
        await root.query(`CREATE USER \`${server.adminUser}\`@'localhost' IDENTIFIED BY ?`, [server.adminPassword]);
        for (const g of grants as Array<Record<string, string>>) {
          // The ADMIN OPTION on the group roles jitadmin@'%' built (their creator's) is its own:
          // root cannot pass it on, and jitadmin@'localhost' builds groups of its own.
          if (/^GRANT `jitgroup_/.test(Object.values(g)[0]!)) continue;
          const sql = Object.values(g)[0]!.replace(` TO \`${server.adminUser}\`@\`%\``, ` TO \`${server.adminUser}\`@\`localhost\``).replace(/ IDENTIFIED BY PASSWORD '[^']*'/, '');
          await root.query(sql);
        }
      } finally {
        await root.end();
      }
    }

    it('shadows the admin too: doctor fails the admin login and says which account to create or drop', async () => {
      const res = await w.run(['doctor', 'testdb']);
      expect(res.code).toBe(1);
      expect(res.stdout).toContain(`FAIL  testdb: admin login: admin login to 127.0.0.1:${server.port} as ${server.adminUser} failed: access denied for '${server.adminUser}'@'localhost' (a wrong password, or an anonymous ''@'localhost' account shadowing '${server.adminUser}'@'%': create '${server.adminUser}'@'localhost' or drop the anonymous account)`);
    });

    it('with the admin also at localhost (what that message asks for), doctor explains the anonymous account; exit 0', async () => {
      await adminAlsoAtLocalhost();
      const res = await w.run(['doctor', 'testdb']);
      expect(res.code, res.stdout + res.stderr).toBe(0);
      const line = res.stdout.split('\n').find((l) => l.includes('testdb: anonymous accounts'));
      expect(line).toMatch(/^warn {2}testdb: anonymous accounts: ''@'localhost' shadow 'jit_…'@'%' for clients from those hosts, so jit also creates each login at those hosts/);
      expect(line).toContain('drops them all on revoke');
      expect(res.stdout).toMatch(/^ok {4}testdb: admin login: /m);
      const json = JSON.parse((await w.run(['doctor', 'testdb', '--json'])).stdout) as Array<{ name: string; ok: boolean; warning?: boolean }>;
      expect(json.find((c) => c.name === 'testdb: anonymous accounts')).toMatchObject({ ok: true, warning: true });
    });

    it('a uri login works over TCP to 127.0.0.1 (matched as localhost) and so does connect; revoke leaves no account at any host', async () => {
      const m = await mint(w, ['--role', 'readonly', '--ttl', '10m']);
      const c = await mysqlSession(m.uri);
      opened.push(c);
      const [rows] = await c.query('SELECT CURRENT_USER() AS me, USER() AS client, COUNT(*) AS n FROM orders');
      expect(rows).toEqual([{ me: `${m.user}@localhost`, client: `${m.user}@localhost`, n: 2 }]);
      const cli = await mariadbWith(m.uri, 'SELECT CURRENT_USER()');
      expect(cli.stdout.trim()).toBe(`${m.user}@localhost`);
      expect(await accountHosts(server, m.user)).toEqual(['%', 'localhost']);
      const rev = await w.run(['revoke', m.id]);
      expect(rev.code, rev.stderr).toBe(0);
      expect(await mysqlSessionAlive(c)).toBe(false);
      expect(await mysqlCanLogin(m.uri)).toBe(false);
      expect(await accountHosts(server, m.user)).toEqual([]);
      expect(await ledgerRow(server, m.user)).toBeUndefined();

      const con = await w.run(['connect', 'testdb', '--role', 'readonly', '--', '-N', '-B', '-e', 'select current_user(), count(*) from orders']);
      expect(con.code, con.stderr).toBe(0);
      const [me, n] = con.stdout.trim().split('\t');
      expect(me).toMatch(/^jit_\w+@localhost$/);
      expect(n).toBe('2');
      const login = me!.replace(/@localhost$/, '');
      expect(await accountHosts(server, login)).toEqual([]);
      // The anonymous account itself is left alone.
      expect(await accountHosts(server, '')).toEqual(['localhost']);
    });
  });
});
