import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, mkdtemp, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JIT_BIN } from '../helpers/jit-cli.js';
import { LeaseStore } from '../../src/leases/lease-store.js';
import type { Lease } from '../../src/leases/lease.js';
import { removeTestDir } from '../helpers/processes.js';

/** Run the built jit; a reaper that does not exit on its own is stopped after `killAfterMs`. */
function jit(args: string[], env: NodeJS.ProcessEnv, killAfterMs = 15_000): Promise<{ code: number | null; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [JIT_BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let base: string;
let listener: Server;
let listenerPort: number;
let connections = 0;
beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'jit-trust-'));
  listener = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  listenerPort = (listener.address() as { port: number }).port;
});
afterAll(async () => {
  listener.close();
  await removeTestDir(base);
});

function plantedLease(id: string, pwned: string, over: Partial<Lease> = {}): Lease {
  const past = new Date(Date.now() - 3600_000).toISOString();
  return {
    id,
    database: 'testdb',
    role: 'readonly',
    user: `jit_mallory_${id}`,
    target: { engine: 'postgres', host: '127.0.0.1', port: listenerPort, database: 'app', tls: 'disable', adminUser: 'postgres' },
    adminSource: `command:touch ${pwned}`,
    requester: 'mallory',
    requesterHost: 'box',
    createdAt: past,
    expiresAt: past,
    maxExpiresAt: past,
    clockSkewMs: 0,
    state: 'active',
    command: 'uri',
    ...over,
  };
}

/** A policy whose only server is a closed port: `jit reap` must not reach the lease's host. */
async function policyIn(dir: string): Promise<string> {
  const file = join(dir, 'jit.yaml');
  await writeFile(file, `version: 1\ndatabases:\n  testdb:\n    engine: postgres\n    host: 127.0.0.1\n    port: 1\n    database: app\n    tls: disable\n    admin:\n      user: postgres\n      password: env:NOPE_PW\n    roles:\n      readonly:\n        grants:\n          - privileges: [SELECT]\n            tables: [public.orders]\n`);
  return file;
}

async function everyCommand(home: string, id: string): Promise<void> {
  const env = { JIT_HOME: home, JIT_POLICY: await policyIn(base), NOPE_PW: 'x' };
  await jit(['__reaper'], env);
  await jit(['list'], env);
  await jit(['revoke', id], env);
  await jit(['extend', id, '--ttl', '10m'], env);
  await jit(['reap'], env);
}

describe('a lease jit did not sign is never acted on', () => {
  it('planted lease with a command: admin source is never run by the reaper, reap, revoke, list or extend', async () => {
    const home = join(base, 'planted');
    const pwned = join(base, 'pwned-planted');
    await mkdir(join(home, 'leases'), { recursive: true, mode: 0o700 });
    await writeFile(join(home, 'leases', 'plantedaaaa.json'), JSON.stringify(plantedLease('plantedaaaa', pwned)), { mode: 0o600 });
    connections = 0;
    await everyCommand(home, 'plantedaaaa');
    expect(existsSync(pwned)).toBe(false);
    expect(connections).toBe(0);
    expect((await new LeaseStore(home).scan()).unreadable[0]?.reason).toMatch(/no MAC/);
  }, 120_000);

  it('jit list says which lease files it does not use, and why', async () => {
    const home = join(base, 'listed');
    await mkdir(join(home, 'leases'), { recursive: true, mode: 0o700 });
    await writeFile(join(home, 'leases', 'listedaaaaa.json'), JSON.stringify(plantedLease('listedaaaaa', join(base, 'pwned-listed'))), { mode: 0o600 });
    const r = await jit(['list'], { JIT_HOME: home, JIT_POLICY: await policyIn(base), NOPE_PW: 'x' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: lease file \S+listedaaaaa\.json is not trusted: no MAC \(.*\); jit does not act on it\nhint: jit reap \(or revoke --all\) finds its login on the server/m);
    expect(r.stdout).not.toContain('listedaaaaa');
  }, 60_000);

  it('a signed lease edited to point at another host is never contacted', async () => {
    const home = join(base, 'edited');
    const pwned = join(base, 'pwned-edited');
    const store = new LeaseStore(home);
    await store.save(plantedLease('editedaaaaa', pwned, { adminSource: 'env:NOPE_PW', target: { engine: 'postgres', host: '127.0.0.1', port: 1, database: 'app', tls: 'disable', adminUser: 'postgres' } }));
    const file = join(home, 'leases', 'editedaaaaa.json');
    const lease = JSON.parse(await readFile(file, 'utf8')) as Lease;
    lease.target.port = listenerPort;
    await writeFile(file, JSON.stringify(lease));
    connections = 0;
    await everyCommand(home, 'editedaaaaa');
    expect(connections).toBe(0);
    expect((await store.scan()).unreadable.map((u) => u.id)).toEqual(['editedaaaaa']);
  }, 120_000);

  it('a lease signed with another key is forged', async () => {
    const home = join(base, 'wrongkey');
    const other = join(base, 'otherkey');
    const pwned = join(base, 'pwned-wrongkey');
    await new LeaseStore(other).save(plantedLease('wrongkeyaaa', pwned));
    await mkdir(join(home, 'leases'), { recursive: true, mode: 0o700 });
    await new LeaseStore(home).init();
    await writeFile(join(home, 'leases', 'wrongkeyaaa.json'), await readFile(join(other, 'leases', 'wrongkeyaaa.json')), { mode: 0o600 });
    connections = 0;
    await everyCommand(home, 'wrongkeyaaa');
    expect(existsSync(pwned)).toBe(false);
    expect(connections).toBe(0);
    const scan = await new LeaseStore(home).scan();
    expect(scan.leases).toEqual([]);
    expect(scan.unreadable[0]?.reason).toMatch(/MAC does not match/);
  }, 120_000);
});

describe('state directory and files that are not the user\'s own are refused', () => {
  it('a symlinked audit.jsonl is refused and its target left unchanged', async () => {
    const home = join(base, 'auditlink');
    await mkdir(home, { mode: 0o700 });
    const victim = join(base, 'victim-file');
    await writeFile(victim, 'precious\n');
    await symlink(victim, join(home, 'audit.jsonl'));
    const r = await jit(['audit'], { JIT_HOME: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to use .*audit\.jsonl: it is a symbolic link/);
    const store = new LeaseStore(home);
    const { AuditLog } = await import('../../src/leases/audit-log.js');
    await expect(new AuditLog(home).append({ event: 'mint' })).rejects.toThrow(/symbolic link/);
    expect(await readFile(victim, 'utf8')).toBe('precious\n');
    expect(store).toBeTruthy();
  });

  it.each([
    ['world-writable', 0o777],
    ['group-writable', 0o770],
  ])('a %s JIT_HOME is refused with a one-line error naming the mode', async (_name, mode) => {
    const home = join(base, `open-${mode.toString(8)}`);
    await mkdir(home);
    await chmod(home, mode);
    const r = await jit(['audit'], { JIT_HOME: home });
    const r2 = await jit(['list'], { JIT_HOME: home });
    await expect(new LeaseStore(home).init()).rejects.toThrow(/writable by group or others \(mode 07[07][07]\)/);
    expect(`${r.stderr}${r2.stderr}`).toMatch(/writable by group or others/);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/hint: .*chmod 700/);
  });

  it('a JIT_HOME owned by another user (nobody) is refused', async () => {
    const home = join(base, 'nobody-home');
    await mkdir(home, { mode: 0o700 });
    await chown(home, 65534, 65534);
    const r = await jit(['list'], { JIT_HOME: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to use .*nobody-home: owned by uid 65534/);
    await expect(new LeaseStore(home).save(plantedLease('nobodyaaaaa', '/x'))).rejects.toThrow(/owned by uid 65534/);
  });

  it('a JIT_HOME below a directory others may write (no sticky bit) is refused: they could swap it for their own', async () => {
    const open = join(base, 'open-parent');
    await mkdir(open);
    await chmod(open, 0o777);
    const home = join(open, 'home');
    await mkdir(home, { mode: 0o700 });
    const r = await jit(['list'], { JIT_HOME: home });
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe(`error: refusing to use ${home}: ${open} above it is writable by others without the sticky bit (mode 0777)`);
    expect(lines[1]).toMatch(/^hint: use a JIT_HOME whose parent directories only you \(or root\) can change/);
    await expect(new LeaseStore(home).init()).rejects.toThrow(/above it is writable by others/);
    // With the sticky bit (as /tmp has) others cannot rename what is yours: accepted.
    await chmod(open, 0o1777);
    const ok = await jit(['list'], { JIT_HOME: join(open, 'home') });
    expect(ok.stderr).not.toMatch(/refusing/);
    expect(ok.code).toBe(0);
  });

  it('a JIT_HOME below a directory owned by another user is refused', async () => {
    const theirs = join(base, 'their-parent');
    await mkdir(theirs, { mode: 0o755 });
    const home = join(theirs, 'home');
    await mkdir(home, { mode: 0o700 });
    await chown(theirs, 65534, 65534);
    const r = await jit(['audit'], { JIT_HOME: home });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`refusing to use ${home}: ${theirs} above it is owned by uid 65534, not by you or root`);
  });

  it('a leases/ subdirectory that is a symlink is refused', async () => {
    const home = join(base, 'leaselink');
    await mkdir(home, { mode: 0o700 });
    const elsewhere = join(base, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    await symlink(elsewhere, join(home, 'leases'));
    await expect(new LeaseStore(home).save(plantedLease('linkaaaaaaa', '/x'))).rejects.toThrow(/symbolic link/);
    expect(await readdir(elsewhere)).toEqual([]);
  });
});
