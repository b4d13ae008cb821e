/**
 * Shared pieces of the lifecycle e2e tests (not a test file itself): minting through the real
 * binary, proving a login works or not, finding a world's processes, stopping/starting the server.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import pg from 'pg';
import type { PgServer } from '../helpers/pg-server.js';
import type { JitWorld, RunOptions } from '../helpers/jit-cli.js';
import { ask } from '../../src/reaper/reaper-client.js';
export { isAlive, processesOfHome } from '../helpers/processes.js';


export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** What `jit uri --json` prints. */
export interface UriJson {
  id: string;
  database: string;
  role: string;
  user: string;
  uri: string;
  expires_at: string;
}

/** `jit uri DB --role R … --json` through the real binary; fails the test on a non-zero exit. */
export async function mintUri(world: JitWorld, args: string[], opts: RunOptions = {}): Promise<UriJson & { password: string }> {
  const res = await world.run(['uri', 'testdb', ...args, '--json'], opts);
  expect(res.code, `jit uri ${args.join(' ')} failed: ${res.stderr}`).toBe(0);
  const out = JSON.parse(res.stdout) as UriJson;
  return { ...out, password: passwordOf(out.uri) };
}

export function passwordOf(uri: string): string {
  return decodeURIComponent(new URL(uri).password);
}

/** A client for the URI's login, not yet connected; terminated backends must not crash the test. */
function clientFor(uri: string): pg.Client {
  const u = new URL(uri);
  const client = new pg.Client({
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
    connectionTimeoutMillis: 5_000,
  });
  client.on('error', () => {});
  return client;
}

/** Try a brand-new login with the URI's credentials: true when the server lets it in. */
export async function canLogin(uri: string): Promise<boolean> {
  const client = clientFor(uri);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** An open session as the minted login (the caller ends it). */
export async function openSession(uri: string): Promise<pg.Client> {
  const client = clientFor(uri);
  await client.connect();
  await client.query('SELECT 1');
  return client;
}

/** Whether a session still answers a query. */
export async function sessionAlive(client: pg.Client): Promise<boolean> {
  try {
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  }
}

/** The pid the world's reaper answers `hello` with, or null when nobody listens. */
export async function reaperPid(home: string): Promise<number | null> {
  try {
    const reply = await ask(home, { type: 'hello' }, 1000);
    return reply.ok ? reply.pid : null;
  } catch {
    return null;
  }
}

/** pg_roles.rolvaliduntil and the marker comment of a role, read as the superuser. */
export async function roleRecord(server: PgServer, login: string): Promise<{ validUntil: Date | null; marker: Record<string, unknown> | null } | null> {
  const c = await server.admin();
  try {
    const r = await c.query(
      `SELECT rolvaliduntil, pg_catalog.shobj_description(oid, 'pg_authid') AS comment FROM pg_catalog.pg_roles WHERE rolname = $1`,
      [login],
    );
    if (r.rowCount === 0) return null;
    const row = r.rows[0] as { rolvaliduntil: Date | null; comment: string | null };
    return { validUntil: row.rolvaliduntil, marker: row.comment ? (JSON.parse(row.comment) as Record<string, unknown>) : null };
  } finally {
    await c.end();
  }
}

/** Poll until the role is gone; the time it was first seen gone (ms since epoch), or null at the deadline. */
export async function whenGone(server: PgServer, login: string, deadlineMs: number, stepMs = 50): Promise<number | null> {
  const c = await server.admin();
  try {
    while (Date.now() < deadlineMs) {
      const r = await c.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [login]);
      if (r.rowCount === 0) return Date.now();
      await sleep(stepMs);
    }
    return null;
  } finally {
    await c.end().catch(() => {});
  }
}
