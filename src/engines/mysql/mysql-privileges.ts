import type { Db } from './mysql-db.js';
import type { ServerFlavor } from './mysql-db.js';
import type { ServerCheck } from '../engine.js';
import {
  ANONYMOUS_ACCOUNTS_SQL,
  CURRENT_USER_SQL,
  EVENT_SCHEDULER_SQL,
  FOREIGN_DEFINER_EVENTS_SQL,
  GLOBAL_PRIVILEGES_SQL,
  GROUP_GRANT_TABLES,
  LEDGER_SCHEMA,
  SCHEMA_PRIVILEGES_SQL,
  quoteIdent,
} from './mysql-sql.js';

/** The ledger schema's privileges jit uses: create it and its table, its event, its rows. */
const LEDGER_PRIVILEGES = ['CREATE', 'EVENT', 'SELECT', 'INSERT', 'UPDATE', 'DELETE'];
const KILL_PRIVILEGES = ['CONNECTION ADMIN', 'CONNECTION_ADMIN', 'SUPER'];
const readableSql = (table: string) => `SELECT 1 FROM mysql.${quoteIdent(table)} LIMIT 0`;
/** Names are others' data: a line break in one must not start a fake line of output. */
const flat = (v: unknown) => String(v).replace(/[\n\r\t]/g, (c) => JSON.stringify(c).slice(1, -1));

/** `user@host` (CURRENT_USER()) as information_schema's GRANTEE spells it: `'user'@'host'`. */
export function granteeOf(currentUser: string): string {
  const at = currentUser.lastIndexOf('@');
  const user = at < 0 ? currentUser : currentUser.slice(0, at);
  const host = at < 0 ? '' : currentUser.slice(at + 1);
  return `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`;
}

/** Problems with the admin account and the server, as sentences; empty when jit can do everything. */
export async function adminProblems(db: Db, flavor: ServerFlavor, admin: string): Promise<string[]> {
  const problems: string[] = [];
  const [me] = await db.rows(CURRENT_USER_SQL);
  const grantee = granteeOf(String(me?.me ?? admin));
  const global = await db.rows(GLOBAL_PRIVILEGES_SQL, [grantee]);
  const held = new Set(global.map((r) => String(r.priv).toUpperCase()));
  const grantable = global.some((r) => r.grantable === 'YES');
  const onLedger = new Set([...held, ...(await db.rows(SCHEMA_PRIVILEGES_SQL, [grantee, LEDGER_SCHEMA])).map((r) => String(r.priv).toUpperCase())]);

  if (!held.has('CREATE USER')) problems.push(`${admin} lacks CREATE USER, so it cannot create, lock or drop logins`);
  if (!held.has('PROCESS')) problems.push(`${admin} lacks PROCESS, so it cannot see other accounts' sessions to end them`);
  if (!KILL_PRIVILEGES.some((p) => held.has(p))) {
    problems.push(`${admin} lacks ${flavor.mariadb ? 'CONNECTION ADMIN' : 'CONNECTION_ADMIN'} (or SUPER), so revocation and the expiry event cannot KILL a login's sessions`);
  }
  if (!grantable) {
    const anyGrantable = await db.rows(
      'SELECT 1 AS x FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = ? UNION ALL SELECT 1 FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ? AND IS_GRANTABLE = ? LIMIT 1',
      [grantee, 'YES', grantee, 'YES'],
    );
    if (anyGrantable.length === 0) problems.push(`${admin} holds no privilege WITH GRANT OPTION, so it cannot grant logins anything`);
  }
  const missing = LEDGER_PRIVILEGES.filter((p) => !onLedger.has(p));
  if (missing.length > 0) problems.push(`${admin} lacks ${missing.join(', ')} on schema ${LEDGER_SCHEMA} (the ledger of jit's logins and their expiry events)`);
  try {
    await db.rows(ANONYMOUS_ACCOUNTS_SQL);
  } catch {
    problems.push(`${admin} cannot read mysql.user, so it cannot find its logins' accounts; GRANT SELECT ON mysql.user TO it`);
  }
  if (flavor.mariadb) {
    const unreadable: string[] = [];
    for (const t of GROUP_GRANT_TABLES) await db.rows(readableSql(t)).catch(() => unreadable.push(t));
    if (unreadable.length > 0) {
      problems.push(
        `${admin} cannot read ${unreadable.map((t) => `mysql.${t}`).join(', ')}, so it cannot check the group roles that hold each policy role's grants; ` +
          unreadable.map((t) => `GRANT SELECT ON mysql.${t} TO it`).join('; '),
      );
    }
  }
  return problems;
}

/** What doctor says about expiry on this server: the event scheduler, and anonymous accounts. */
export async function expiryNotes(db: Db): Promise<ServerCheck[]> {
  const notes: ServerCheck[] = [];
  const [sched] = await db.rows(EVENT_SCHEDULER_SQL);
  const state = flat(sched?.scheduler ?? 'OFF');
  if (state.toUpperCase() === 'ON') {
    notes.push({ name: 'event scheduler', ok: true, detail: "ON: each login's one-shot event drops it at expiry, even if no jit runs" });
  } else {
    notes.push({
      name: 'event scheduler',
      ok: true,
      warning: true,
      detail:
        `${state}: expired logins are dropped only by jit's reaper or \`jit reap\` (a cron job or timer), not by the server; ` +
        'turn it on with SET GLOBAL event_scheduler = ON and event_scheduler=ON in the server configuration',
    });
  }
  const [foreign] = await db.rows(FOREIGN_DEFINER_EVENTS_SQL).catch(() => []);
  if (Number(foreign?.n ?? 0) > 0) {
    notes.push({
      name: 'expiry events',
      ok: true,
      warning: true,
      detail:
        `${Number(foreign!.n)} login expiry event(s) run as ${flat(foreign!.definer)}, not as this admin: if that account was dropped or renamed they fail when due ` +
        "(error 1449, only in the server's log) and those logins expire only through jit's reaper or `jit reap`; revoke those logins, or re-create the account the events run as",
    });
  }
  const anonymous = await db.rows(ANONYMOUS_ACCOUNTS_SQL).catch(() => []);
  if (anonymous.length > 0) {
    const hosts = anonymous.map((r) => `''@'${flat(r.host)}'`).join(', ');
    notes.push({
      name: 'anonymous accounts',
      ok: true,
      warning: true,
      detail:
        `${hosts} shadow 'jit_…'@'%' for clients from those hosts, so jit also creates each login at those hosts ` +
        '(same password, grants and limits) and drops them all on revoke; drop the anonymous accounts if nothing needs them',
    });
  }
  return notes;
}
