/**
 * The reaper revokes the leases of one server that fall due together through one admin session
 * and revokeMany: every login blocked in one transaction before any is dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { usePostgres } from '../helpers/servers.js';
import { JIT_BIN, leaseFiles, makeWorld, roleExists, waitFor, type JitWorld } from '../helpers/jit-cli.js';
import { mintUri, openSession, sessionAlive, sleep, type UriJson } from './support.js';

// Exclusive: the statement log is the server's, and must hold only this file's statements.
const server = usePostgres(15, { exclusive: true });
let w: JitWorld;
let reaper: ChildProcess | undefined;

beforeAll(async () => {
  await server.configure({ log_statement: 'all' });
});

afterAll(async () => {
  if (reaper && reaper.exitCode === null && reaper.signalCode === null) reaper.kill('SIGKILL');
  await w?.cleanup().catch(() => {});
});

describe('leases of one server due together', () => {
  it('are revoked through one admin login, all blocked in one transaction before any is dropped', async () => {
    w = await makeWorld(server, { env: { JIT_NO_REAPER: '1' } });
    const minted: UriJson[] = [];
    for (let i = 0; i < 8; i++) minted.push(await mintUri(w, ['--role', 'short', '--ttl', '5s']));
    const open = await Promise.all(minted.map((m) => openSession(m.uri)));
    // All due before the reaper starts: its first tick finds every one of them.
    await sleep(Math.max(0, Math.max(...minted.map((m) => Date.parse(m.expires_at))) + 500 - Date.now()));
    const before = (await readFile(server.logFile, 'utf8')).length;
    reaper = spawn(process.execPath, [JIT_BIN, '__reaper'], { env: w.env, stdio: 'ignore' });
    expect(await waitFor(async () => (await leaseFiles(w.home)).length === 0, 20_000)).toBe(true);
    for (const m of minted) expect(await roleExists(server, m.user)).toBe(false);
    for (const c of open) expect(await sessionAlive(c)).toBe(false);
    await Promise.all(open.map((c) => c.end().catch(() => {})));

    const log = (await readFile(server.logFile, 'utf8')).slice(before);
    const blocks = minted.map((m) => log.indexOf(`ALTER ROLE "${m.user}" NOLOGIN`));
    for (const at of blocks) expect(at).toBeGreaterThan(-1);
    expect(log.indexOf('DROP ROLE')).toBeGreaterThan(Math.max(...blocks));
    const start = log.lastIndexOf('statement: ', Math.min(...blocks));
    expect(log.slice(start, Math.max(...blocks)).startsWith('statement: BEGIN;')).toBe(true);
    expect(log.slice(start + 1, Math.max(...blocks))).not.toContain('statement: ');
    const audit = JSON.parse((await w.run(['audit', '--json'])).stdout) as Array<Record<string, unknown>>;
    for (const m of minted) expect(audit).toContainEqual(expect.objectContaining({ event: 'revoke', cause: 'expiry', login: m.user, terminated_sessions: 1 }));
  });
});
