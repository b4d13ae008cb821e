import type { Client } from 'pg';
import type { ServerCheck, ServerTarget } from '../engine.js';
import { errorCode, oneLine } from './postgres-errors.js';
import {
  CRON_ACCESS_SQL,
  CRON_LAUNCHER_SQL,
  SCHEDULE_SQL,
  UNSCHEDULE_SQL,
  UNSCHEDULE_STALE_SQL,
  cleanupJobSql,
  expireJobSql,
} from './postgres-cron-sql.js';

/** What pg_cron can do for one admin session's server (see postgres-cron-sql.ts). */
export type CronState =
  /** No pg_cron launcher seen; `hidden` names the grant that would let the admin see one. */
  | { kind: 'none'; hidden?: string }
  /** pg_cron runs, but this admin cannot schedule with it: what is missing, each with its fix. */
  | { kind: 'unusable'; database: string; problems: string[] }
  | { kind: 'usable'; database: string; version: string };

/** How a PostgresSession reaches pg_cron's database. */
export interface CronContext {
  client: Client;
  target: ServerTarget;
  connectTo(database: string): Promise<Client>;
}

/**
 * The pg_cron expiry backstop of one admin session: finds out once whether pg_cron can be used,
 * and schedules, moves and removes the login jobs in pg_cron's database (a second connection,
 * unless that is the policy's database, closed with the session).
 */
export class CronBackstop {
  private state?: Promise<CronState>;
  private cronClient?: Promise<Client>;

  constructor(private readonly ctx: CronContext) {}

  /** The mint saw no launcher in the same round trip: nothing more to ask. */
  noLauncher(): void {
    this.state ??= Promise.resolve({ kind: 'none' });
  }

  status(): Promise<CronState> {
    this.state ??= this.detect();
    return this.state;
  }

  private async detect(): Promise<CronState> {
    const { rows } = await this.ctx.client.query(CRON_LAUNCHER_SQL);
    const r = rows[0] ?? {};
    const admin = String(r.admin_ident ?? this.ctx.target.adminUser);
    if (!r.cron_database) {
      return r.sees_backends === true ? { kind: 'none' } : { kind: 'none', hidden: `GRANT pg_read_all_stats TO ${admin}` };
    }
    const database = String(r.cron_database);
    let client: Client;
    try {
      client = await this.cronDb(database);
    } catch (err) {
      const fix = errorCode(err) === '42501' ? `; fix, as a superuser: GRANT CONNECT ON DATABASE ${String(r.cron_database_ident)} TO ${admin}` : '';
      return { kind: 'unusable', database, problems: [`${this.ctx.target.adminUser} cannot connect to database ${database}: ${oneLine(err)}${fix}`] };
    }
    const a = (await client.query(CRON_ACCESS_SQL)).rows[0];
    if (!a) {
      return { kind: 'unusable', database, problems: [`the pg_cron extension is not created in database ${database}; fix, as a superuser there: CREATE EXTENSION pg_cron`] };
    }
    const where = `as a superuser in database ${String(a.database_ident)}`;
    const problems: string[] = [];
    if (a.has_schedule_in_database !== true) {
      problems.push(`pg_cron ${String(a.version)} has no cron.schedule_in_database (1.4 or later); fix, ${where}: ALTER EXTENSION pg_cron UPDATE`);
    } else {
      const grants = [
        ...(a.schema_usage === true ? [] : [`GRANT USAGE ON SCHEMA cron TO ${admin}`]),
        ...(a.can_schedule === true ? [] : [`GRANT EXECUTE ON FUNCTION cron.schedule_in_database(text, text, text, text, text, boolean) TO ${admin}`]),
        ...(a.can_unschedule === true ? [] : [`GRANT EXECUTE ON FUNCTION cron.unschedule(bigint) TO ${admin}`]),
        ...(a.can_read_jobs === true ? [] : [`GRANT SELECT ON cron.job TO ${admin}`]),
      ];
      if (grants.length > 0) problems.push(`${this.ctx.target.adminUser} may not schedule pg_cron jobs; fix, ${where}: ${grants.join('; ')}`);
    }
    if (a.superuser === true && String(a.superuser_jobs).toLowerCase() === 'off') {
      problems.push(`cron.enable_superuser_jobs is off, so pg_cron runs no job of ${this.ctx.target.adminUser}, a superuser; use a non-superuser admin`);
    }
    return problems.length > 0 ? { kind: 'unusable', database, problems } : { kind: 'usable', database, version: String(a.version) };
  }

  private cronDb(database: string): Promise<Client> {
    if (database === this.ctx.target.database) return Promise.resolve(this.ctx.client);
    // Bounded like the mint's own transaction: a lock held on cron.job must not hang a mint.
    this.cronClient ??= this.ctx.connectTo(database).then(async (c) => {
      await c.query("SET statement_timeout = '30s'").catch(() => {});
      return c;
    });
    // A failed connection is not kept: the next call tries again.
    this.cronClient.catch(() => (this.cronClient = undefined));
    return this.cronClient;
  }

  /**
   * Schedule (or move) the login's jobs for its expiry; nothing when pg_cron cannot be used.
   * Throws when pg_cron is usable and scheduling fails: the caller decides what that means.
   */
  async schedule(login: string, expiresAt: Date): Promise<void> {
    const s = await this.status();
    if (s.kind !== 'usable') return;
    const client = await this.cronDb(s.database);
    await client.query(SCHEDULE_SQL, [login, expireJobSql(login, this.ctx.target.owner), this.ctx.target.database, cleanupJobSql(login), expiresAt]);
  }

  /** Remove the jobs of logins that are gone. Best effort: a job left behind is harmless, and its cleanup job or `jit reap` removes it. */
  async unschedule(logins: string[]): Promise<void> {
    if (logins.length === 0) return;
    try {
      const s = await this.status();
      if (s.kind !== 'usable') return;
      await (await this.cronDb(s.database)).query(UNSCHEDULE_SQL, [logins]);
    } catch {
      // see above
    }
  }

  /** Unschedule the admin's jit jobs whose login is gone; their names. */
  async sweep(): Promise<string[]> {
    const s = await this.status();
    if (s.kind !== 'usable') return [];
    const { rows } = await (await this.cronDb(s.database)).query(UNSCHEDULE_STALE_SQL);
    return rows.map((r) => String(r.job));
  }

  /** doctor's line for this server. */
  async check(): Promise<ServerCheck> {
    const name = 'session backstop';
    const none = 'none: VALID UNTIL blocks new logins only; a session open at expiry lives on until the reaper or `jit reap` revokes the login';
    let s: CronState;
    try {
      s = await this.status();
    } catch (err) {
      return { name, ok: true, warning: true, detail: flat(`${none} (could not tell whether pg_cron runs: ${oneLine(err)})`) };
    }
    if (s.kind === 'usable') {
      return {
        name,
        ok: true,
        detail: flat(`pg_cron ${s.version} (database ${s.database}): at the first minute after expiry a one-shot job ends the login's sessions and drops it, even when no jit runs`),
      };
    }
    if (s.kind === 'unusable') return { name, ok: true, warning: true, detail: flat(`${none}; pg_cron runs, but: ${s.problems.join('; ')}`) };
    if (s.hidden) return { name, ok: true, detail: `${none} (${this.ctx.target.adminUser} cannot see whether pg_cron runs; to let jit find it: ${s.hidden})` };
    return { name, ok: true, detail: none };
  }

  async close(): Promise<void> {
    const c = this.cronClient;
    this.cronClient = undefined;
    if (c) await c.then((x) => x.end(), () => {}).catch(() => {});
  }
}

/** Names are others' data: a line break in one must not start a fake line of output. */
const flat = (v: string) => v.replace(/[\n\r\t]/g, (c) => JSON.stringify(c).slice(1, -1));
