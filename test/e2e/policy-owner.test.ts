import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { usePostgres } from '../helpers/servers.js';
import { makeWorld, testPolicy, type JitWorld } from '../helpers/jit-cli.js';

// Exclusive: "a failed mint leaves no login" is checked over every jit_ role on the server.
const pg = usePostgres(15, { exclusive: true });
let w: JitWorld;

beforeAll(async () => {
  w = await makeWorld(pg);
  const c = await pg.admin();
  try {
    await c.query(`CREATE ROLE boss SUPERUSER NOLOGIN;
      CREATE ROLE creator CREATEROLE NOLOGIN;
      CREATE ROLE rls BYPASSRLS NOLOGIN;
      CREATE ROLE replicator REPLICATION NOLOGIN;
      CREATE ROLE filer NOLOGIN; GRANT pg_read_server_files TO filer;
      CREATE ROLE app_owner NOLOGIN;`);
  } finally {
    await c.end();
  }
});
afterAll(async () => {
  await w?.cleanup();
});

/** Every role whose name starts with jit_ (marked or not): a failed mint must leave none. */
async function jitNamedRoles(): Promise<string[]> {
  const c = await pg.admin();
  try {
    const r = await c.query(`SELECT rolname FROM pg_roles WHERE starts_with(rolname, 'jit_') ORDER BY 1`);
    return r.rows.map((x: { rolname: string }) => x.rolname);
  } finally {
    await c.end();
  }
}

async function withOwner(owner: string): Promise<void> {
  await writeFile(w.policyFile, testPolicy(pg).replace('    tls: disable\n', `    tls: disable\n    owner: ${owner}\n`));
}

describe('owner is checked on the server at mint (owner: postgres made a SECURITY DEFINER function superuser-owned)', () => {
  it.each([
    ['boss', 'is a superuser'],
    ['creator', 'has CREATEROLE'],
    ['rls', 'has BYPASSRLS'],
    ['replicator', 'has REPLICATION'],
    ['filer', 'is a member of pg_read_server_files'],
  ])('refuses owner %s (%s) with exit 2 before anything is created', async (owner, why) => {
    await withOwner(owner);
    const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`error: owner role ${owner} ${why}; what logins leave behind would run with its rights`);
    expect(lines[1]).toMatch(/^hint: name an ordinary NOLOGIN role as owner/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await jitNamedRoles()).toEqual([]);
  });

  it('refuses an owner that does not exist', async () => {
    await withOwner('ghost');
    const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('error: owner role ghost does not exist on the server');
    expect(await jitNamedRoles()).toEqual([]);
  });

  it('accepts an ordinary NOLOGIN owner', async () => {
    await withOwner('app_owner');
    const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(r.code).toBe(0);
    expect(await jitNamedRoles()).toHaveLength(1);
    expect((await w.run(['revoke', '--all', '--yes'])).code).toBe(0);
    expect(await jitNamedRoles()).toEqual([]);
  });
});

describe('an owner made powerful after the mint is not handed what the login created', () => {
  async function su(sql: string): Promise<void> {
    const c = await pg.admin();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }
  async function canLogIn(login: string): Promise<boolean | undefined> {
    const c = await pg.admin();
    try {
      const r = await c.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [login]);
      return r.rows[0]?.rolcanlogin as boolean | undefined;
    } finally {
      await c.end();
    }
  }

  it.each([['revoke'], ['revoke --all']])('%s keeps the login blocked and says why while app_owner is a superuser; once it is not, the login goes', async (how) => {
    await withOwner('app_owner');
    const minted = await w.run(['uri', 'testdb', '--role', 'readonly', '--json']);
    expect(minted.code, minted.stderr).toBe(0);
    const { id, user } = JSON.parse(minted.stdout) as { id: string; user: string };
    await su('ALTER ROLE app_owner SUPERUSER');
    try {
      const r = await w.run(how === 'revoke' ? ['revoke', id] : ['revoke', '--all', '--yes']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${user} is blocked (NOLOGIN) but not dropped: owner role app_owner is a superuser now, and what the login created would run with its rights once handed over`);
      expect(await canLogIn(user)).toBe(false);
    } finally {
      await su('ALTER ROLE app_owner NOSUPERUSER');
    }
    const again = await w.run(['revoke', '--all', '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect(await canLogIn(user)).toBeUndefined();
  });
});

describe('a refused or failed mint leaves no login (a grant on information_schema.tables committed one)', () => {
  it('refuses information_schema.tables in the policy with exit 2, nothing on the server', async () => {
    await writeFile(w.policyFile, testPolicy(pg).replace('tables: [public.orders, public.customers]', 'tables: [information_schema.tables]'));
    const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n')[0]).toMatch(/grants\[0\]\.tables: schema "information_schema" belongs to the server itself/);
    expect(await jitNamedRoles()).toEqual([]);
  });

  it('rolls the whole mint back when a grant fails on the server', async () => {
    await writeFile(w.policyFile, testPolicy(pg).replace('tables: [public.orders, public.customers]', 'tables: [public.orders, public.no_such_table]'));
    const r = await w.run(['uri', 'testdb', '--role', 'readonly']);
    expect(r.code).toBe(2);
    expect(await jitNamedRoles()).toEqual([]);
  });
});
