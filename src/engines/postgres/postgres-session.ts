import type { Client, QueryResult } from 'pg';
/** What the server sends with a NOTICE or WARNING (pg-protocol's NoticeMessage). */
type NoticeMessage = { code?: string; message?: string };
import type { AdminSession, ExtendRequest, ServerCheck, RevokeRequest, LeaseMarker, LoginSession, MintRequest, MintResult, RevokeResult, ServerLogin, ServerTarget } from '../engine.js';
import { runtimeError } from '../../core/errors.js';
import { redact, registerSecret } from '../../core/redact.js';
import { oneLine, translatePgError, type PgErrorContext } from './postgres-errors.js';
import { assertJitLogin, revokeLogin, revokeLogins, roleInfo } from './postgres-revoke.js';
import { scramVerifier } from './postgres-scram.js';
import { grantProblems } from './postgres-grant-check.js';
import { checkOwner, ownerPrivilegeProblem, ownerProblem } from './postgres-owner.js';
import type { Grant } from '../../policy/types.js';
import { ADMIN_PRIVILEGES_SQL, MARKER_HOLDINGS_SQL, LIST_LOGINS_SQL, SERVER_TIME_SQL, SESSIONS_SQL, extendSql, mintSql } from './postgres-sql.js';
import { HBA_RULES_SQL, MARKER_ROLE, OWNER_CHECK_SQL } from './postgres-sql.js';
import { hbaWarnings, type HbaRule } from './postgres-hba.js';
import { CronBackstop } from './postgres-cron.js';
import type { GroupSpec } from './postgres-group.js';

/** 01007: GRANT without grant option on the object only warns, and the login would silently lack it. */
const PRIVILEGE_NOT_GRANTED = '01007';

/** An admin connection to one PostgreSQL server. */
export class PostgresSession implements AdminSession {
  /** The pg_cron expiry backstop, where the server has one the admin can use. */
  private readonly cron: CronBackstop;

  constructor(
    private readonly client: Client,
    private readonly target: ServerTarget,
    private readonly connectTo: (database: string) => Promise<Client>,
  ) {
    this.cron = new CronBackstop({ client, target, connectTo });
  }

  private ctx(phase: PgErrorContext['phase'], login?: string): PgErrorContext {
    const t = this.target;
    return { host: t.host, port: t.port, user: t.adminUser, database: t.database, phase, login, name: t.name };
  }

  private async query(sql: string, params: unknown[] = [], phase: PgErrorContext['phase'] = 'query'): Promise<QueryResult> {
    try {
      return await this.client.query(sql, params);
    } catch (err) {
      throw translatePgError(err, this.ctx(phase));
    }
  }

  async mint(req: MintRequest): Promise<MintResult> {
    registerSecret(req.password);
    if (this.target.owner) {
      await checkOwner(this.client, this.target.owner).catch((err) => {
        throw translatePgError(err, this.ctx('mint', req.login));
      });
    }
    // Group roles only on 16+, where the membership can be SET FALSE: on 15 a login could SET
    // ROLE to its group and create objects (a SECURITY DEFINER function, a large object) the
    // group would own after the login is revoked. 15 keeps per-login grants.
    this.serverVersion ??= Number((await this.query(SERVER_TIME_SQL)).rows[0].server_version);
    const group: GroupSpec | undefined = req.narrowed || this.serverVersion < 160000
      ? undefined
      : { policyDatabase: req.marker.database, database: this.target.database, role: req.marker.role, admin: this.target.adminUser, grants: req.grants, memberOf: req.memberOf };
    const sql = mintSql({
      login: req.login,
      verifier: scramVerifier(req.password),
      validUntil: req.expiresAt,
      connectionLimit: req.connectionLimit,
      marker: req.marker,
      database: this.target.database,
      grants: req.grants,
      memberOf: req.memberOf,
      limits: req.limits,
      ...(group ? { group } : {}),
    });
    const notGranted: string[] = [];
    const onNotice = (n: NoticeMessage) => {
      if (n.code === PRIVILEGE_NOT_GRANTED) notGranted.push(n.message ?? 'a privilege was not granted');
    };
    this.client.on('notice', onNotice);
    let results: QueryResult | QueryResult[];
    try {
      // One simple-query string: one round trip. After an error the server skips the rest and
      // leaves the explicit transaction aborted (25P02 for anything else) until ROLLBACK.
      results = (await this.client.query(sql)) as unknown as QueryResult | QueryResult[];
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => {});
      throw translatePgError(err, this.ctx('mint', req.login));
    } finally {
      this.client.off('notice', onNotice);
    }
    if (notGranted.length > 0) {
      await this.revoke({ login: req.login }).catch(() => {});
      throw runtimeError(
        redact(`the admin role ${this.target.adminUser} could not grant everything the role asks for: ${[...new Set(notGranted)].join('; ')}`),
        `grant ${this.target.adminUser} those privileges WITH GRANT OPTION (or make it own the objects), then retry`,
      );
    }
    const list = Array.isArray(results) ? results : [results];
    const row = list.map((r) => r.rows?.[0]).find((r) => r && 'server_now' in r);
    if (!row?.cron_database) this.cron.noLauncher();
    // All or nothing, as MariaDB's expiry event: where pg_cron can end the login's sessions at
    // expiry, a login it would not watch is not handed out.
    try {
      await this.cron.schedule(req.login, req.expiresAt);
    } catch (err) {
      await this.revoke({ login: req.login }).catch(() => {});
      throw runtimeError(
        redact(`could not schedule the pg_cron job that ends ${req.login} at expiry: ${oneLine(err)}; no login was handed out`),
        `run 'jit doctor ${this.target.name ?? 'DB'}': it says what pg_cron needs`,
      );
    }
    return { serverNow: row ? new Date(row.server_now) : new Date() };
  }

  async revoke({ login }: RevokeRequest): Promise<RevokeResult> {
    let res: RevokeResult;
    try {
      res = await revokeLogin({ client: this.client, target: this.target, connectTo: this.connectTo }, login);
    } catch (err) {
      throw translatePgError(err, this.ctx('revoke', login));
    }
    if (res.gone) await this.cron.unschedule([login]);
    return res;
  }

  async revokeMany(requests: RevokeRequest[]): Promise<RevokeResult[]> {
    let results: RevokeResult[];
    try {
      results = await revokeLogins({ client: this.client, target: this.target, connectTo: this.connectTo }, requests);
    } catch (err) {
      throw translatePgError(err, this.ctx('revoke'));
    }
    await this.cron.unschedule([...new Set(results.filter((r) => r.gone).map((r) => r.login))]);
    return results;
  }

  async sweepBackstops(): Promise<string[]> {
    try {
      return await this.cron.sweep();
    } catch (err) {
      throw translatePgError(err, this.ctx('query'));
    }
  }

  async extend({ login, expiresAt, marker }: ExtendRequest): Promise<void> {
    const info = await roleInfo(this.client, login).catch((err) => {
      throw translatePgError(err, this.ctx('extend', login));
    });
    if (!info) {
      throw runtimeError(`login ${login} no longer exists on ${this.target.host}:${this.target.port}`, 'it was revoked or expired; mint a new one');
    }
    assertJitLogin(login, info);
    // The job first: should moving VALID UNTIL fail after it, the job runs late and finds the
    // login expired (or gone) all the same; the other way round a failure would leave the login
    // without its backstop.
    try {
      await this.cron.schedule(login, expiresAt);
    } catch (err) {
      throw runtimeError(
        redact(`could not move the pg_cron job that ends ${login} at expiry: ${oneLine(err)}; the expiry was not changed`),
        `run 'jit doctor ${this.target.name ?? 'DB'}': it says what pg_cron needs`,
      );
    }
    try {
      await this.client.query(extendSql(login, expiresAt, marker));
    } catch (err) {
      await this.client.query('ROLLBACK').catch(() => {});
      throw translatePgError(err, this.ctx('extend', login));
    }
  }

  async loginsWithoutExpiry(database: string, memberOf: string[]): Promise<string[] | null> {
    let rows: HbaRule[];
    try {
      rows = (await this.client.query(HBA_RULES_SQL)).rows as HbaRule[];
    } catch (err) {
      if ((err as { code?: string }).code === '42501') return null;
      throw translatePgError(err, this.ctx('query'));
    }
    return hbaWarnings(rows, database, [MARKER_ROLE, ...memberOf]).map((w) => w.text);
  }

  // VALID UNTIL is a password expiry: trust, cert, peer or ident lines let a login in past it.
  async expiryChecks(database: string, memberOf: string[]): Promise<ServerCheck[]> {
    const name = 'pg_hba.conf';
    const noExpiry = await this.loginsWithoutExpiry(database, memberOf).catch(() => null);
    if (noExpiry === null) {
      return [
        { name, ok: true, detail: `cannot read pg_hba_file_rules as ${this.target.adminUser} (superuser only), so cannot tell whether a trust, cert, peer or ident line lets minted logins in past their expiry` },
        await this.cron.check(),
      ];
    }
    const backstop = await this.cron.check();
    if (noExpiry.length > 0) {
      return [{ name, ok: true, warning: true, detail: `minted logins could log in past their expiry (VALID UNTIL only applies to password methods) through ${noExpiry.join('; ')}` }, backstop];
    }
    return [{ name, ok: true, detail: 'every line that could match minted logins checks their password, so VALID UNTIL applies' }, backstop];
  }

  async listLogins(): Promise<ServerLogin[]> {
    const { rows } = await this.query(LIST_LOGINS_SQL);
    return rows.map((r) => ({
      login: String(r.login),
      marker: parseMarker(r.comment),
      validUntil: validDate(r.valid_until),
      sessions: Number(r.sessions),
    }));
  }

  async sessions(): Promise<LoginSession[]> {
    const { rows } = await this.query(SESSIONS_SQL);
    return rows.map((r) => ({
      login: String(r.login),
      pid: Number(r.pid),
      clientAddr: r.client_addr ?? null,
      since: validDate(r.backend_start),
      state: r.state ?? null,
      query: r.query ?? null,
    }));
  }

  async serverTime(): Promise<Date> {
    const { rows } = await this.query(SERVER_TIME_SQL);
    this.serverVersion = Number(rows[0].server_version);
    return new Date(rows[0].server_now);
  }

  /** server_version_num, read along with the clock every mint reads first. */
  private serverVersion: number | undefined;

  async checkPrivileges(): Promise<string[]> {
    const { rows } = await this.query(ADMIN_PRIVILEGES_SQL);
    const problems = privilegeProblems(this.target.adminUser, rows[0] ?? {});
    const owner = this.target.owner;
    if (owner) {
      const o = (await this.query(OWNER_CHECK_SQL, [owner])).rows[0];
      const what = o ? ownerProblem(o) : 'does not exist';
      if (what) problems.push(`owner role ${owner} ${what}, so it cannot receive what logins leave behind`);
      const missing = o && !what ? ownerPrivilegeProblem(o) : undefined;
      if (missing) problems.push(missing);
    }
    // Anything granted to the marker: reaches every login on 15, and is a trap on 16+ (a login
    // minted by an older jit, or by hand, inherits it).
    const held = await this.query(MARKER_HOLDINGS_SQL);
    // Names are others' data: a line break in one must not start a fake line of output.
    const flat = (v: unknown) => String(v).replace(/[\n\r\t]/g, (c) => JSON.stringify(c).slice(1, -1));
    for (const h of held.rows) problems.push(`role jit ${flat(h.what)}, which jit logins must never inherit; fix: ${flat(h.fix)}`);
    return problems;
  }

  async privilegeWarnings(): Promise<string[]> {
    const { rows } = await this.query(ADMIN_PRIVILEGES_SQL);
    return privilegeWarnings(this.target.adminUser, rows[0] ?? {});
  }

  async checkGrants(grants: Grant[], memberOf: string[]): Promise<string[]> {
    try {
      return await grantProblems(this.client, grants, memberOf);
    } catch (err) {
      throw translatePgError(err, this.ctx('query'));
    }
  }

  async cancel(): Promise<void> {
    // The admin may cancel its own backends; a mint interrupted this way fails with 57014.
    const pid = (this.client as unknown as { processID?: number }).processID;
    if (!pid) return;
    const other = await this.connectTo(this.target.database);
    try {
      await other.query('SELECT pg_catalog.pg_cancel_backend($1)', [pid]);
    } finally {
      await other.end().catch(() => {});
    }
  }

  async close(): Promise<void> {
    await this.cron.close();
    await this.client.end().catch(() => {});
  }
}

/** The lease comment, or null when someone else wrote something else there. */
export function parseMarker(comment: unknown): LeaseMarker | null {
  if (typeof comment !== 'string') return null;
  try {
    const v = JSON.parse(comment) as unknown;
    return v && typeof v === 'object' && typeof (v as LeaseMarker).id === 'string' ? (v as LeaseMarker) : null;
  } catch {
    return null;
  }
}

/** rolvaliduntil may be NULL or 'infinity' (pg parses that to a number). */
function validDate(v: unknown): Date | null {
  return v instanceof Date && !Number.isNaN(v.getTime()) ? v : null;
}

/**
 * Problems with the admin role, as sentences naming the statement that fixes each; empty when it
 * can do everything jit needs. Not required: pg_signal_backend. jit makes the admin a member of
 * each login it mints (grantLoginToAdminSql), and that membership is what lets it end the
 * login's sessions, on 15 as on 16+. Table grants and member_of groups: checkGrants.
 */
export function privilegeProblems(admin: string, r: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const a = String(r.admin_ident ?? admin);
  const version = Number(r.server_version ?? 0);
  if (r.superuser !== true) {
    if (r.createrole !== true) problems.push(`${admin} has neither SUPERUSER nor CREATEROLE, so it cannot create logins; fix: ALTER ROLE ${a} CREATEROLE`);
    // 16+: jit grants itself each login WITH INHERIT TRUE, whatever the admin's own default.
    if (version < 160000 && r.inherit === false) {
      problems.push(`${admin} is NOINHERIT, so its membership in a login does not let it end the login's sessions or drop what it owns; fix: ALTER ROLE ${a} INHERIT`);
    }
    if (version >= 160000 && r.marker_exists === true && r.marker_admin === false) {
      problems.push(
        `role ${MARKER_ROLE} was created by another role and ${admin} has no ADMIN OPTION on it, so it cannot make a login its member (PostgreSQL 16+); ` +
          `fix, as a superuser: GRANT ${MARKER_ROLE} TO ${a} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
      );
    }
    if (r.connect_grantable === false) {
      const db = String(r.database_ident);
      problems.push(`PUBLIC may not connect to database ${db} and ${admin} cannot grant CONNECT on it; fix: GRANT CONNECT ON DATABASE ${db} TO ${a} WITH GRANT OPTION`);
    }
  }
  if (r.marker_can_login === true) problems.push('role jit exists and can log in; jit needs that name for its NOLOGIN marker role');
  if (version < 140000) problems.push('the server is older than PostgreSQL 14; revocation cannot wait for sessions to end');
  return problems;
}

/** What the admin can do beyond what jit needs: worth saying, not a failure. */
export function privilegeWarnings(admin: string, r: Record<string, unknown>): string[] {
  const version = Number(r.server_version ?? 0);
  const warnings: string[] = [];
  if (r.superuser === true) {
    warnings.push(`${admin} is a superuser: jit needs only CREATEROLE and the grants README's non-superuser admin lists; whoever holds this credential holds the whole server`);
  } else if (r.createrole === true && version < 160000) {
    warnings.push(
      `on PostgreSQL ${Math.floor(version / 10000)} CREATEROLE lets ${admin} grant itself any role but a superuser one, ` +
        `pg_execute_server_program (programs run as the server's OS user) included: treat it as near-superuser; PostgreSQL 16+ takes ADMIN OPTION for that`,
    );
  }
  const others = Array.isArray(r.public_connect) ? r.public_connect.map(String) : [];
  if (others.length > 0) {
    const shown = others.slice(0, 5).join(', ') + (others.length > 5 ? ` and ${others.length - 5} more` : '');
    warnings.push(
      `PUBLIC may connect to ${shown} on this server, so a minted login can too and read there what PUBLIC may; ` +
        `fix, as their owner or a superuser: ${others.slice(0, 5).map((d) => `REVOKE CONNECT ON DATABASE ${d} FROM PUBLIC`).join('; ')}`,
    );
  }
  return warnings;
}
