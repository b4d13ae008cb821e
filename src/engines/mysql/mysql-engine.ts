import type { Connection, ConnectionOptions } from 'mysql2/promise';
import type { AdminSession, Engine, ServerTarget } from '../engine.js';
import { registerSecret } from '../../core/redact.js';
import { dbOf, parseFlavor } from './mysql-db.js';
import { translateMysqlError, type MysqlErrorContext } from './mysql-errors.js';
import { mysqlProfile } from './mysql-profile.js';
import { clientFiles } from './mysql-client-files.js';
import { MysqlSession } from './mysql-session.js';
import { SERVER_INFO_SQL, sessionSetupSql } from './mysql-sql.js';
import { buildJdbcUrl, buildUri, clientEnv, clientLaunch } from './mysql-uri.js';
import { readClientCert, readTlsCa } from '../tls-ca.js';
import { applyBootstrap, bootstrapSteps, shownStep } from './mysql-bootstrap.js';

/**
 * mysql2 settings for an admin connection; `tls` maps onto ssl-mode REQUIRED (with a `tls_ca`:
 * VERIFY_CA) / VERIFY_IDENTITY. mysql2 checks the host name only when asked (`verifyIdentity`).
 * A policy `tls_cert`/`tls_key` is presented as the client certificate (REQUIRE X509 accounts).
 */
export function adminConnectionOptions(target: ServerTarget, password: string): ConnectionOptions {
  const ca = target.tls === 'disable' ? undefined : readTlsCa(target);
  const client = target.tls === 'disable' ? {} : readClientCert(target);
  const ssl =
    target.tls === 'disable'
      ? undefined
      : target.tls === 'verify-full'
        ? { rejectUnauthorized: true, verifyIdentity: true, ...(ca ? { ca } : {}), ...client }
        : ca
          ? { rejectUnauthorized: true, ca, ...client }
          : { rejectUnauthorized: false, ...client };
  return {
    host: target.host,
    port: target.port,
    user: target.adminUser,
    password,
    database: target.database,
    ...(ssl ? { ssl } : {}),
    connectTimeout: target.connectTimeoutMs ?? 10_000,
    // DATETIMEs come back as the strings the server sent (UTC: the session's time zone).
    dateStrings: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    charset: 'utf8mb4',
    multipleStatements: false,
    // mysql2 refuses mysql_clear_password unless asked; only the policy may ask (admin.auth: password).
    enableCleartextPlugin: target.adminAuth === 'password',
    connectAttributes: { program_name: 'jit' },
  };
}

/** Connect as the admin. `mysql2` is imported here so merely loading the engine loads no driver. */
async function openConnection(target: ServerTarget, password: string): Promise<MysqlSession> {
  const { default: mysql } = await import('mysql2/promise');
  const ctx: MysqlErrorContext = { host: target.host, port: target.port, user: target.adminUser, database: target.database, phase: 'connect', name: target.name };
  let conn: Connection;
  try {
    conn = await mysql.createConnection(adminConnectionOptions(target, password));
  } catch (err) {
    throw translateMysqlError(err, ctx);
  }
  // A killed idle connection emits 'error'; unhandled, that would end jit. The next query
  // fails and is translated like any other error.
  conn.on('error', () => {});
  try {
    const db = dbOf(conn);
    const [info] = await db.rows(SERVER_INFO_SQL);
    await db.run(sessionSetupSql(String(info?.sql_mode ?? '')));
    const openLogin = async (user: string, loginPassword: string) => {
      const { database: _none, ...options } = adminConnectionOptions(target, loginPassword);
      const own = await mysql.createConnection({ ...options, user, enableCleartextPlugin: false });
      own.on('error', () => {});
      return own;
    };
    const openAdmin = async () => {
      const other = await mysql.createConnection(adminConnectionOptions(target, password));
      other.on('error', () => {});
      return other;
    };
    return new MysqlSession(conn, target, parseFlavor(String(info?.version ?? ''), String(info?.comment ?? '')), openLogin, openAdmin);
  } catch (err) {
    conn.destroy();
    throw translateMysqlError(err, { ...ctx, phase: 'query' });
  }
}

export const mysqlEngine: Engine = {
  name: 'mysql',
  profile: mysqlProfile,

  async connectAdmin(target: ServerTarget, adminPassword: string): Promise<AdminSession> {
    registerSecret(adminPassword);
    return openConnection(target, adminPassword);
  },

  bootstrap: {
    defaultDba: 'root',
    plan: (db) => bootstrapSteps(db).map(shownStep),
    async apply(target, dba, db, adminPassword) {
      registerSecret(dba.password);
      const { default: mysql } = await import('mysql2/promise');
      const ctx: MysqlErrorContext = { host: target.host, port: target.port, user: dba.user, database: target.database, phase: 'connect', name: target.name };
      let conn: Connection;
      try {
        conn = await mysql.createConnection(adminConnectionOptions({ ...target, adminUser: dba.user }, dba.password));
      } catch (err) {
        throw translateMysqlError(err, ctx);
      }
      conn.on('error', () => {});
      try {
        const q = dbOf(conn);
        const [info] = await q.rows(SERVER_INFO_SQL);
        await q.run(sessionSetupSql(String(info?.sql_mode ?? '')));
        const flavor = parseFlavor(String(info?.version ?? ''), String(info?.comment ?? ''));
        const server = `${flavor.mariadb ? 'MariaDB' : 'MySQL'} ${flavor.version.join('.')}`;
        return await applyBootstrap(q, flavor, server, db, adminPassword);
      } catch (err) {
        throw translateMysqlError(err, { ...ctx, phase: 'query' });
      } finally {
        await conn.end().catch(() => conn.destroy());
      }
    },
  },

  buildUri,
  buildJdbcUrl,
  clientEnv,
  clientFiles,
  clientLaunch,
};
