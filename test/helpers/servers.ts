/**
 * The servers of a test run, for test files. One server per engine is started for the whole run
 * (test/setup/global-setup.ts, on first use); a file asks for it with `usePostgres(15)` at the top
 * level of the file or of a describe block: that block is a *scope*. For its duration the scope
 * holds the engine's lock, shared by default, and has its own copy of the fixture database and
 * its own requester name, so files running side by side cannot see each other's tables or
 * mistake each other's logins.
 *
 * A scope that does server-wide things asks for `{ exclusive: true }`: server-wide commands
 * (`revoke --all`, `reap`), assertions about every login on the server (`list --all` shows
 * exactly…), settings (ALTER SYSTEM, pg_hba.conf), the statement log, pause/resume, anything done
 * to the marker role. It then waits until no other scope uses the server, starts from a server
 * swept back to how it started (no role, database or setting left by earlier scopes), and puts
 * settings back when it ends.
 *
 * Scopes do not nest (a file waiting for a second lock while holding one could deadlock with
 * another file doing the opposite): a file that needs both kinds uses sibling describe blocks.
 *
 * Another engine plugs in with a starter in test/setup/test-servers.ts and a kit here (how to
 * open a scope on its coordinates), e.g. `export const useMariadb = (o = {}) => useScope('mariadb', mariadbKit, o)`.
 */
import { afterAll, beforeAll } from 'vitest';
import { connectBroker, type BrokerClient } from './broker-client.js';
import type { PgServer } from './pg-server.js';
import { postgresKit } from './pg-scope.js';
import { mariadbKit, type MariadbScope } from './mariadb-scope.js';

export interface ScopeOptions {
  /** The server to itself for the whole scope (see above). */
  exclusive?: boolean;
}

/** What a scope needs from the broker, for an engine kit. */
export interface ScopeContext {
  engine: string;
  exclusive: boolean;
  /** Unique in the run: names this scope's database and requester. */
  seq: number;
  /** Ask the broker to stop / start the server (exclusive scopes only). */
  control(op: 'pause' | 'resume'): Promise<void>;
}

/** How to open a scope on one engine's server, from the coordinates its starter published. */
export interface ScopeKit<S> {
  open(coords: Record<string, unknown>, ctx: ScopeContext): Promise<{ server: S; close(): Promise<void> }>;
}

let active: string | null = null;
/** Waiting for the lock lasts as long as the scopes ahead of this one: bounded by their own timeouts, not by hookTimeout. */
const LOCK_WAIT_MS = 20 * 60_000;

interface Opened {
  close(): Promise<void>;
}

/** Take the engine's lock and open the kit on its server, on an open broker connection. */
async function openScope<S extends object>(broker: BrokerClient, engine: string, kit: ScopeKit<S>, opts: ScopeOptions, handle: S): Promise<Opened> {
  const { coords } = await broker.request<{ coords: Record<string, unknown> }>('server', { engine });
  const { seq } = await broker.request<{ seq: number }>('seq');
  const exclusive = opts.exclusive === true;
  await broker.request('lock', { engine, mode: exclusive ? 'exclusive' : 'shared' });
  const opened = await kit.open(coords, { engine, exclusive, seq, control: (op) => broker.request(op, { engine }).then(() => undefined) });
  Object.assign(handle, opened.server);
  return opened;
}

/** One engine's part of a multi-engine scope (useScopes). */
export interface ScopePart<S extends object> {
  engine: string;
  kit: ScopeKit<S>;
}

/**
 * Hooks for one scope in the current suite; the returned object is filled in by its beforeAll
 * (so use it in hooks and tests, not at collection time).
 */
export function useScope<S extends object>(engine: string, kit: ScopeKit<S>, opts: ScopeOptions = {}): S {
  return useScopes([{ engine, kit }], opts)[0] as S;
}

/**
 * One scope over several engines' servers at once (a policy that mixes engines). The locks are
 * taken in engine-name order, so two such scopes cannot each hold one lock the other waits for.
 */
export function useScopes(parts: Array<ScopePart<object>>, opts: ScopeOptions = {}): object[] {
  const handles = parts.map(() => ({}));
  const name = parts.map((p) => p.engine).join('+');
  let broker: BrokerClient | undefined;
  const opened: Opened[] = [];
  let mine = false;
  beforeAll(async () => {
    if (active) throw new Error(`a ${name} scope inside the ${active} scope: scopes do not nest, use sibling describe blocks`);
    active = name;
    mine = true;
    broker = await connectBroker();
    const order = parts.map((p, i) => ({ p, i })).sort((a, b) => (a.p.engine < b.p.engine ? -1 : a.p.engine > b.p.engine ? 1 : 0));
    for (const { p, i } of order) opened.push(await openScope(broker, p.engine, p.kit, opts, handles[i]!));
  }, LOCK_WAIT_MS);
  afterAll(async () => {
    try {
      for (const o of opened.splice(0).reverse()) await o.close();
    } finally {
      broker?.close();
      if (mine) active = null;
    }
  });
  return handles;
}

/** The run's PostgreSQL `version` for this scope (see above). */
export function usePostgres(version: 15 | 18 = 15, opts: ScopeOptions = {}): PgServer {
  return useScope(`pg${version}`, postgresKit, opts);
}

/**
 * The run's PostgreSQL 15 with pg_cron (its jobs in database `postgres`), for the tests of the
 * expiry backstop; a server of its own, so no other file's server has pg_cron.
 */
export function usePgCron(opts: ScopeOptions = {}): PgServer {
  return useScope('pg15cron', postgresKit, opts);
}

/** The run's MariaDB 10.11 for this scope (see above). */
export function useMariadb(opts: ScopeOptions = {}): MariadbScope {
  return useScope('mariadb', mariadbKit, opts);
}

/** PostgreSQL and MariaDB together, for a policy that mixes engines (see useScopes). */
export function usePostgresAndMariadb(version: 15 | 18 = 15, opts: ScopeOptions = {}): [PgServer, MariadbScope] {
  const [pg, maria] = useScopes([{ engine: `pg${version}`, kit: postgresKit }, { engine: 'mariadb', kit: mariadbKit }], opts);
  return [pg as PgServer, maria as MariadbScope];
}
