import type { Connection } from 'mysql2/promise';
import type { AdminSession, ExtendRequest, LeaseMarker, LoginSession, MintRequest, MintResult, RevokeRequest, RevokeResult, ServerCheck, ServerLogin, ServerTarget } from '../engine.js';
import type { Grant } from '../../policy/types.js';
import { EXIT, JitError, runtimeError, usageError } from '../../core/errors.js';
import { LOGIN_PREFIX } from '../../core/names.js';
import { registerSecret } from '../../core/redact.js';
import { atLeast, dbOf, type Db, type Row, type ServerFlavor } from './mysql-db.js';
import { ER, errorNumber, translateMysqlError, type MysqlErrorContext } from './mysql-errors.js';
import { nativePasswordHash } from './mysql-password.js';
import { mysqlProfile } from './mysql-profile.js';
import { accountNotJits, hasLedgerRow, isJitLoginName, ledgerMissing, notJits, revokeLogin, revokeLogins, withLoginLock } from './mysql-revoke.js';
import { grantProblems } from './mysql-grants.js';
import { ensureGroup, type GroupSpec } from './mysql-group.js';
import { adminProblems, expiryNotes } from './mysql-privileges.js';
import {
  ACCOUNT_HOSTS_SQL,
  ANONYMOUS_HOSTS_SQL,
  CREATE_LEDGER_SCHEMA_SQL,
  CREATE_GROUPS_TABLE_SQL,
  CREATE_LEDGER_TABLE_SQL,
  CURRENT_USER_SQL,
  LEDGER_DELETE_SQL,
  LEDGER_EXTEND_SQL,
  LEDGER_INSERT_SQL,
  LEDGER_SCHEMA,
  LEDGER_TEXT_MAX,
  LIST_LOGINS_SQL,
  SCHEMA_EXISTS_SQL,
  SERVER_TIME_SQL,
  SESSIONS_SQL,
  SHOW_OWN_GRANTS_SQL,
  SHOW_PUBLIC_GRANTS_SQL,
  TABLE_EXISTS_SQL,
  alterEventSql,
  createEventSql,
  createUserSql,
  killSql,
  alterUserAttributeSql,
  defaultRoleSqls,
  ownDefaultRoleSql,
  dropEventSql,
  dropUsersSql,
  grantRolesSql,
  grantSqls,
  isoFromDatetime,
  roleExistsSql,
  utcDatetime,
  type AccountAuth,
} from './mysql-sql.js';

/** An admin connection to one MySQL or MariaDB server. */
export class MysqlSession implements AdminSession {
  private readonly db: Db;
  private ledgerReady = false;
  /** Logins this session began to mint whose ledger row was not written (so nothing exists of them). */
  private readonly unrecorded = new Set<string>();

  constructor(
    private readonly conn: Connection,
    private readonly target: ServerTarget,
    readonly flavor: ServerFlavor,
    /** A connection as a minted login (no default schema); the caller ends it. */
    private readonly openLogin: (user: string, password: string) => Promise<Connection>,
    /** A second admin connection (to interrupt this one's statement); the caller ends it. */
    private readonly openAdmin: () => Promise<Connection>,
  ) {
    this.db = dbOf(conn);
  }

  /**
   * Interrupt the statement this session is waiting on (a mint held up by a lock, Ctrl-C): KILL
   * QUERY from a second admin connection; the statement fails with 1317 and the mint undoes
   * what it created. The admin may kill its own threads.
   */
  async cancel(): Promise<void> {
    const other = await this.openAdmin();
    try {
      await other.query(killSql(this.conn.threadId, 'QUERY'));
    } finally {
      await other.end().catch(() => other.destroy());
    }
  }

  private ctx(phase: MysqlErrorContext['phase'], login?: string): MysqlErrorContext {
    const t = this.target;
    return { host: t.host, port: t.port, user: t.adminUser, database: t.database, phase, login, name: t.name };
  }

  private async guard<T>(phase: MysqlErrorContext['phase'], login: string | undefined, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw translateMysqlError(err, this.ctx(phase, login));
    }
  }

  /** MariaDB: the `*SHA1(SHA1())` hash. MySQL < 8.4 the same through WITH … AS; 8.4+ has native off. */
  private accountAuth(password: string): AccountAuth {
    if (this.flavor.mariadb) return { kind: 'native-hash', hash: nativePasswordHash(password) };
    if (!atLeast(this.flavor, 8, 4)) return { kind: 'native-hash-with', hash: nativePasswordHash(password) };
    return { kind: 'caching-sha2', password };
  }

  /** MySQL 8.0.21+ keeps a JSON attribute per account (MariaDB has none: the ledger is all there is). */
  private userAttributes(): boolean {
    return !this.flavor.mariadb && atLeast(this.flavor, 8, 0, 21);
  }

  private async ensureLedger(): Promise<void> {
    if (this.ledgerReady) return;
    await this.db.run(CREATE_LEDGER_SCHEMA_SQL);
    await this.db.run(CREATE_LEDGER_TABLE_SQL);
    await this.db.run(CREATE_GROUPS_TABLE_SQL);
    this.ledgerReady = true;
  }

  /**
   * A write to the ledger, which is created on first use: two DDL round trips on every mint
   * would only be for the first one (1146/1049 when it is missing).
   */
  private async intoLedger<T>(write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      if (this.ledgerReady || !ledgerMissing(err)) throw err;
      await this.ensureLedger();
      return write();
    }
  }

  /**
   * The group role that holds the role's grants, or undefined for per-login grants: a `--only`
   * narrowing, and MySQL 8, where granting a role needs ROLE_ADMIN (or ADMIN OPTION on it, which
   * CREATE ROLE does not give its creator): ROLE_ADMIN lets its holder grant itself any role on
   * the server, a right jit's admin should not need. And a login made at more hosts than '%'
   * (anonymous accounts shadow it there): its default role can be set only by the login itself,
   * on the one account its connection matches (see setDefaultRoles).
   */
  private groupSpec(req: MintRequest, hosts: string[]): GroupSpec | undefined {
    if (req.narrowed || !this.flavor.mariadb || hosts.length > 1) return undefined;
    return { policyDatabase: req.marker.database, database: this.target.database, role: req.marker.role, admin: this.target.adminUser, grants: req.grants, memberOf: req.memberOf };
  }

  private adminAccount?: string;

  /** Build or check the group (ledger tables are created on first use, as for a mint's row). */
  private async ensureGroup(spec: GroupSpec): Promise<string> {
    this.adminAccount ??= String((await this.db.rows(CURRENT_USER_SQL))[0]?.me ?? '');
    const at = `${this.target.host}:${this.target.port}`;
    // Per admin account (user@host), the account that holds ADMIN OPTION on the groups it built.
    const mine = { ...spec, admin: this.adminAccount };
    try {
      return await this.intoLedger(() => ensureGroup(this.db, mine, this.adminAccount!, at));
    } catch (err) {
      // 1142 on mysql.*: an admin set up before group roles (the grant tables it reads).
      const table = /`mysql`\.`(\w+)`/.exec(err instanceof Error ? err.message : '')?.[1];
      if (errorNumber(err) !== ER.TABLEACCESS_DENIED || !table) throw err;
      throw new JitError(`${this.target.adminUser} cannot read mysql.${table} on ${at}, which it needs to check the group role that holds the role's grants; no login was minted`, {
        hint: `GRANT SELECT ON mysql.${table} TO ${this.target.adminUser} (see 'jit admin bootstrap ${this.target.name ?? 'DB'}'), or run 'jit doctor ${this.target.name ?? 'DB'}'`,
        exitCode: EXIT.runtime,
        cause: err,
      });
    }
  }

  /** What must be refused before anything is created. */
  private checkRequest(req: MintRequest): void {
    if (!req.login.startsWith(LOGIN_PREFIX) || [...req.login].length > mysqlProfile.maxLoginLength) {
      throw usageError(`login name ${req.login} is not a jit login name of at most ${mysqlProfile.maxLoginLength} characters`, 'this is a bug: names come from makeLoginName');
    }
    const touchesLedger = req.grants.some((g) => [g.schema, ...(g.tables ?? []).map((t) => t.schema)].some((s) => s?.toLowerCase() === LEDGER_SCHEMA));
    if (touchesLedger) throw usageError(`the role grants on schema ${LEDGER_SCHEMA}, which holds jit's ledger`, 'remove that grant from the policy');
    if (this.flavor.mariadb && req.memberOf.length > 1) throw multipleRoles(req.memberOf);
    // MAX_STATEMENT_TIME per account is MariaDB's; MySQL 8's max_execution_time is a session (or
    // per-statement hint) setting for SELECT only.
    if (!this.flavor.mariadb && req.limits?.statementTimeoutMs !== undefined) {
      throw usageError(
        `MySQL ${this.flavor.version.join('.')} cannot give one account a statement time limit (MAX_STATEMENT_TIME is MariaDB's); no login was minted`,
        'remove statement_timeout from the role in the policy',
      );
    }
  }

  async mint(req: MintRequest): Promise<MintResult> {
    registerSecret(req.password);
    this.checkRequest(req);
    const { login } = req;
    const hosts = await this.guard('mint', login, async () => {
      if ((await this.db.rows(ACCOUNT_HOSTS_SQL, [login])).length > 0) {
        throw new JitError(`an account named ${login} already exists on ${this.target.host}:${this.target.port}`, { hint: 'retry: a new login name is drawn each time', kind: 'conflict' });
      }
      // GRANT … ON `s`.* succeeds for a schema that does not exist (and would apply once one is
      // created): refuse it like a missing table.
      for (const s of new Set(req.grants.flatMap((g) => (g.schema ? [g.schema] : [])))) {
        const [r] = await this.db.rows(SCHEMA_EXISTS_SQL, [s]);
        if (Number(r?.n ?? 0) === 0) throw new JitError(`the policy names a schema that does not exist on ${this.target.host}:${this.target.port}: ${s}`, { hint: 'fix the grants in the policy or create the schema', exitCode: EXIT.usage, kind: 'missing-object' });
      }
      // MariaDB 10.11+: what PUBLIC holds, every login holds.
      if (this.flavor.mariadb && atLeast(this.flavor, 10, 11)) {
        const problems = grantProblems((await this.db.rows(SHOW_PUBLIC_GRANTS_SQL)).map((r) => String(Object.values(r)[0])));
        if (problems.length > 0) throw this.escapes('PUBLIC', problems);
      }
      return loginHosts((await this.db.rows(ANONYMOUS_HOSTS_SQL)).map((r) => String(r.host)));
    });
    const m = req.marker;
    // From here until its ledger row exists nothing of the login does: a cancel need not touch
    // the ledger (which the group's check reads too, and which may be what holds the mint up).
    this.unrecorded.add(login);
    const spec = this.groupSpec(req, hosts);
    const group = spec ? await this.guard('mint', login, () => this.ensureGroup(spec)) : undefined;
    // The ledger row first: a crash after it leaves a row `reap` finds; an account never exists without one.
    await this.guard('mint', login, () => this.intoLedger(() =>
      this.db.run(LEDGER_INSERT_SQL, [
        login, '%', m.id, m.database, m.role, clip(m.requester), clip(m.requester_host), m.reason ?? null,
        utcDatetime(new Date(m.created_at)), utcDatetime(req.expiresAt), utcDatetime(new Date(m.max_expires_at)),
      ])),
    );
    this.unrecorded.delete(login);
    let created = false;
    try {
      await this.db.run(createEventSql(login, hosts, req.expiresAt));
      try {
        await this.db.run(
          createUserSql({
            login, hosts, auth: this.accountAuth(req.password), connectionLimit: req.connectionLimit, requireSsl: this.target.tls !== 'disable',
            ...(req.limits?.statementTimeoutMs !== undefined ? { maxStatementTimeMs: req.limits.statementTimeoutMs } : {}),
            ...(this.userAttributes() ? { attribute: { ...m } } : {}),
          }),
        );
        created = true;
      } catch (err) {
        // 1396: an account of that name appeared meanwhile; it is not ours to drop.
        created = errorNumber(err) !== ER.CANNOT_USER;
        throw err;
      }
      if (group) {
        // The member_of role is the group's: MariaDB activates roles granted to the default role.
        await this.db.run(grantRolesSql([group], login, hosts));
        await this.setDefaultRoles(req, [group], hosts);
        if (req.memberOf.length > 0) await this.checkLoginGrants(req);
      } else {
        for (const sql of grantSqls(req.grants, login, hosts)) await this.db.run(sql);
        if (req.memberOf.length > 0) {
          await this.db.run(grantRolesSql(req.memberOf, login, hosts));
          await this.setDefaultRoles(req, req.memberOf, hosts);
          await this.checkLoginGrants(req);
        }
      }
    } catch (err) {
      // Account statements commit one by one: undo by hand, then say what failed.
      await this.compensate(login, hosts, created);
      throw translateMysqlError(err, this.ctx('mint', login));
    }
    return { serverNow: await this.serverTime() };
  }

  /**
   * A granted role is inactive at login until it is a default role. MariaDB checks UPDATE on the
   * mysql schema for SET DEFAULT ROLE … FOR another account (check_alter_user): a near-superuser
   * right jit's admin should not need. Without it, the login sets its own default role, which
   * reaches the one account its connection matches, so only a login with one account ('%').
   */
  private async setDefaultRoles(req: MintRequest, roles: string[], hosts: string[]): Promise<void> {
    try {
      for (const sql of defaultRoleSqls(this.flavor.mariadb, roles, req.login, hosts)) await this.db.run(sql);
      return;
    } catch (err) {
      if (!this.flavor.mariadb || errorNumber(err) !== ER.DBACCESS_DENIED) throw err;
      if (hosts.length > 1) {
        throw new JitError(
          `on MariaDB, ${this.target.adminUser} cannot make ${roles[0]} the default role of ${req.login}'s accounts at ${hosts.filter((h) => h !== '%').join(', ')} (made because of anonymous accounts there)`,
          { hint: `drop the anonymous accounts (see 'jit doctor ${this.target.name ?? 'DB'}'), or GRANT UPDATE ON mysql.* TO ${this.target.adminUser}`, cause: err },
        );
      }
    }
    const own = await this.openLogin(req.login, req.password);
    try {
      await own.query(ownDefaultRoleSql(roles[0]!));
    } finally {
      await own.end().catch(() => own.destroy());
    }
  }

  /**
   * What the login holds once its roles are active, asked as the login (the admin may not read
   * others' grants): a role that reaches jit.leases, the event or *.* would let it delete its own
   * ledger row and outlive every revoke, reap and event.
   */
  private async checkLoginGrants(req: MintRequest): Promise<void> {
    const own = await this.openLogin(req.login, req.password);
    let lines: string[];
    try {
      const [rows] = await own.query(SHOW_OWN_GRANTS_SQL);
      lines = (rows as Row[]).map((r) => String(Object.values(r)[0]));
    } finally {
      await own.end().catch(() => own.destroy());
    }
    const problems = grantProblems(lines);
    if (problems.length > 0) throw this.escapes(`member_of ${req.memberOf.join(', ')}`, problems);
  }

  private escapes(through: string, problems: string[]): JitError {
    return new JitError(
      `on ${this.target.host}:${this.target.port}, ${through} would give every jit login ${problems.join('; ')}: with that a login can delete its own row in jit.leases or drop its expiry event and outlive revocation, or hand privileges on; no login was minted`,
      { hint: `revoke those privileges from ${through.replace(/^member_of /, '')} (jit logins only ever need table and schema privileges outside ${LEDGER_SCHEMA}), or use another role`, exitCode: EXIT.usage },
    );
  }

  private async compensate(login: string, hosts: string[], created: boolean): Promise<void> {
    let dropped = !created;
    if (created) dropped = await this.db.run(dropUsersSql(login, hosts)).then(() => true, () => false);
    await this.db.run(dropEventSql(login)).catch(() => {});
    // A row stays while an account may: the reaper and `jit reap` find it through the row.
    if (dropped) await this.db.run(LEDGER_DELETE_SQL, [login]).catch(() => {});
  }

  async revoke({ login }: RevokeRequest): Promise<RevokeResult> {
    // A mint of this session that failed (or was interrupted) before its ledger row was written
    // created nothing: an account never exists without its row. Undoing it must not wait on the
    // ledger, which may be what held the mint up (a lock there).
    if (this.unrecorded.has(login)) {
      this.unrecorded.delete(login);
      return { login, gone: true, alreadyGone: true, terminated: 0, errors: [] };
    }
    return this.guard('revoke', login, () => revokeLogin(this.db, login));
  }

  async revokeMany(requests: RevokeRequest[]): Promise<RevokeResult[]> {
    return this.guard('revoke', undefined, () => revokeLogins(this.db, requests));
  }

  async extend({ login, expiresAt, marker }: ExtendRequest): Promise<void> {
    const at = `${this.target.host}:${this.target.port}`;
    await this.guard('extend', login, () =>
      withLoginLock(this.db, login, async () => {
        const accounts = await this.db.rows(ACCOUNT_HOSTS_SQL, [login]);
        const hosts = accounts.map((r) => String(r.host));
        if (!(await hasLedgerRow(this.db, login))) {
          if (hosts.length > 0) throw notJits(login);
          throw runtimeError(`login ${login} no longer exists on ${at}`, 'it was revoked or expired; mint a new one');
        }
        if (hosts.length === 0) throw runtimeError(`login ${login} no longer exists on ${at}`, 'it was revoked or expired; mint a new one');
        // The event extend (re)creates drops the account at expiry: only ever for a jit login.
        const why = accountNotJits(login, accounts);
        if (why) throw notJits(login, why);
        // Expired is final, by the server's clock.
        if ((await this.db.run(LEDGER_EXTEND_SQL, [utcDatetime(expiresAt), login])) === 0) {
          throw runtimeError(`login ${login} has already expired by the clock of ${at}; expired is final`, 'mint a new login (jit uri / jit connect)');
        }
        try {
          await this.db.run(alterEventSql(login, expiresAt));
        } catch (err) {
          // The event is gone (dropped by hand, or never ran with the scheduler off): make a new one.
          if (errorNumber(err) !== ER.EVENT_DOES_NOT_EXIST) throw err;
          await this.db.run(createEventSql(login, hosts, expiresAt));
        }
        if (this.userAttributes()) {
          for (const sql of alterUserAttributeSql(login, hosts, { expires_at: marker.expires_at })) await this.db.run(sql);
        }
      }),
    );
  }

  async listLogins(): Promise<ServerLogin[]> {
    const rows = await this.guard('query', undefined, () => this.db.rows(LIST_LOGINS_SQL).catch((err) => (ledgerMissing(err) ? [] : Promise.reject(err))));
    // A ledger row is a claim anyone with INSERT on it can forge: only a login's name shape is listed.
    return rows.filter((r) => isJitLoginName(String(r.login))).map((r) => ({
      login: String(r.login),
      marker: markerOf(r),
      validUntil: dateOf(r.event_at),
      sessions: Number(r.sessions ?? 0),
    }));
  }

  async sessions(): Promise<LoginSession[]> {
    const rows = await this.guard('query', undefined, () => this.db.rows(SESSIONS_SQL).catch((err) => (ledgerMissing(err) ? [] : Promise.reject(err))));
    // A forged ledger row for `root` must not show root's statements.
    return rows.filter((r) => isJitLoginName(String(r.login))).map((r) => {
      const now = dateOf(r.server_now);
      const seconds = Number(r.seconds);
      return {
        login: String(r.login),
        pid: Number(r.id),
        // PROCESSLIST shows `addr:port`, or `localhost` for a socket.
        clientAddr: r.host ? String(r.host).replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1') : null,
        since: now && Number.isFinite(seconds) ? new Date(now.getTime() - seconds * 1000) : null,
        state: r.state ? String(r.state) : null,
        query: r.query ? String(r.query) : null,
      };
    });
  }

  async serverTime(): Promise<Date> {
    const [r] = await this.guard('query', undefined, () => this.db.rows(SERVER_TIME_SQL));
    return dateOf(r?.server_now) ?? new Date();
  }

  async checkPrivileges(): Promise<string[]> {
    return this.guard('query', undefined, () => adminProblems(this.db, this.flavor, this.target.adminUser));
  }

  async expiryChecks(): Promise<ServerCheck[]> {
    return this.guard('query', undefined, () => expiryNotes(this.db));
  }

  async checkGrants(grants: Grant[], memberOf: string[]): Promise<string[]> {
    return this.guard('query', undefined, async () => {
      const problems: string[] = [];
      for (const g of grants) {
        for (const t of g.tables ?? []) {
          const [r] = await this.db.rows(TABLE_EXISTS_SQL, [t.schema, t.name]);
          if (Number(r?.n ?? 0) === 0) problems.push(`table ${t.schema}.${t.name} does not exist, or ${this.target.adminUser} holds nothing on it`);
        }
        if (g.schema) {
          const [r] = await this.db.rows(SCHEMA_EXISTS_SQL, [g.schema]);
          if (Number(r?.n ?? 0) === 0) problems.push(`schema ${g.schema} does not exist`);
        }
      }
      for (const role of memberOf) {
        const [r] = await this.db.rows(roleExistsSql(this.flavor.mariadb), [role]);
        if (Number(r?.n ?? 0) === 0) problems.push(`role ${role} does not exist`);
      }
      if (this.flavor.mariadb && memberOf.length > 1) problems.push(multipleRoles(memberOf).message);
      // USE needs some privilege in the schema (MySQL has no CONNECT privilege): without one the
      // URI's and \`jit connect\`'s default schema refuses the login (1044). Roles may carry it.
      const home = this.target.database;
      const touchesHome = grants.some((g) => g.schema === home || (g.tables ?? []).some((t) => t.schema === home));
      if (!touchesHome && memberOf.length === 0) {
        problems.push(`the role grants nothing in schema ${home} (the policy's database:), so clients connecting to it (the URI, jit connect) are refused; grant something there or point database: at a schema the role uses`);
      }
      return problems;
    });
  }

  async close(): Promise<void> {
    await this.conn.end().catch(() => this.conn.destroy());
  }
}

/**
 * The accounts of one login: `'%'`, plus every host where an anonymous account would shadow it.
 * The server picks the most specific host first, so ''@'localhost' wins over 'jit_x'@'%' for a
 * client on localhost; 'jit_x'@'localhost' (same hash, grants and limits) wins over both.
 */
export function loginHosts(anonymousHosts: string[]): string[] {
  return ['%', ...new Set(anonymousHosts.filter((h) => h !== '%' && h !== ''))];
}

/** The ledger's VARCHAR(255): a longer JIT_REQUESTER or host name is cut, not a failed mint (1406 in strict mode). */
function clip(text: string): string {
  const chars = [...text];
  return chars.length <= LEDGER_TEXT_MAX ? text : chars.slice(0, LEDGER_TEXT_MAX).join('');
}

function multipleRoles(roles: string[]): JitError {
  return usageError(
    `MariaDB activates only one default role at login, and this role is a member of ${roles.length} (${roles.join(', ')})`,
    'on MariaDB give the role one member_of: a role granted the others (GRANT a TO combined; GRANT b TO combined)',
  );
}

function dateOf(v: unknown): Date | null {
  const iso = isoFromDatetime(v);
  return iso ? new Date(iso) : null;
}

function markerOf(r: Row): LeaseMarker | null {
  if (typeof r.lease_id !== 'string') return null;
  const created = isoFromDatetime(r.created_at);
  const expires = isoFromDatetime(r.expires_at);
  const max = isoFromDatetime(r.max_expires_at);
  if (!created || !expires || !max) return null;
  return {
    id: r.lease_id,
    database: String(r.database),
    role: String(r.role),
    requester: String(r.requester),
    requester_host: String(r.requester_host),
    ...(r.reason ? { reason: String(r.reason) } : {}),
    created_at: created,
    expires_at: expires,
    max_expires_at: max,
  };
}
