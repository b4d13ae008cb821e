import { constants } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClientLaunch, ServerTarget } from '../engine.js';
import type { TlsMode } from '../../policy/types.js';
import { encodeUriPart, encodeUriPath, uriHost } from '../uri.js';
import { crypto } from '../../core/builtins.js';

/**
 * `ssl-mode` as MySQL Shell, Connector/J-style URIs, Rust sqlx and Go/Python wrappers that take
 * MySQL URIs spell it. mysql2 ignores the parameter (with a warning) and needs `ssl` set in code;
 * the account's REQUIRE SSL refuses any login without TLS whichever driver reads the URI.
 */
const SSL_MODE: Readonly<Record<TlsMode, string | null>> = { disable: null, require: 'REQUIRED', 'verify-full': 'VERIFY_IDENTITY' };

/**
 * `mysql://login:password@host:port/database[?ssl-mode=…[&ssl-ca=…]]`, userinfo percent-encoded,
 * the path where RFC 3986 requires it. `ssl-ca` is the CA file as MySQL Shell and sqlx read it
 * (with it, REQUIRED checks the chain: VERIFY_CA), and `ssl-cert`/`ssl-key` the client certificate
 * likewise; mysql2 takes them only in code (`ssl: { ca, cert, key }`).
 */
export function buildUri(target: ServerTarget, login: string, password: string): string {
  const userinfo = `${encodeUriPart(login)}:${encodeUriPart(password)}`;
  const mode = SSL_MODE[target.tls];
  const path = (p: string) => encodeUriPart(p).replace(/%2F/g, '/');
  const params = mode
    ? [
        `ssl-mode=${mode}`,
        ...(target.tlsCa ? [`ssl-ca=${path(target.tlsCa)}`] : []),
        ...(target.tlsCert && target.tlsKey ? [`ssl-cert=${path(target.tlsCert)}`, `ssl-key=${path(target.tlsKey)}`] : []),
      ]
    : [];
  return `mysql://${userinfo}@${uriHost(target.host)}:${target.port}/${encodeUriPath(target.database)}${params.length ? `?${params.join('&')}` : ''}`;
}

/** Connector/J's sslMode (MariaDB Connector/J 3 reads the same names as aliases of its own). */
const JDBC_SSL_MODE: Readonly<Record<TlsMode, string>> = { disable: 'DISABLED', require: 'REQUIRED', 'verify-full': 'VERIFY_IDENTITY' };

/**
 * `jdbc:mysql://host:port/database?user=…&password=…&sslMode=…`: MySQL Connector/J's form, which
 * MariaDB Connector/J also takes (2.x as it is; 3.x as `jdbc:mariadb:` or with
 * permitMysqlScheme). Every part is fully percent-encoded: both drivers decode values with
 * URLDecoder, where `+` is a space. Connector/J reads certificates only from Java key stores, so
 * tls_ca/tls_cert are not carried (see README).
 */
export function buildJdbcUrl(target: ServerTarget, login: string, password: string): string {
  const params = [`user=${encodeUriPart(login)}`, `password=${encodeUriPart(password)}`, `sslMode=${JDBC_SSL_MODE[target.tls]}`];
  return `jdbc:mysql://${uriHost(target.host)}:${target.port}/${encodeUriPart(target.database)}?${params.join('&')}`;
}

/**
 * What the mysql/mariadb clients read from the environment: MYSQL_HOST, MYSQL_TCP_PORT and
 * MYSQL_PWD (deprecated by MySQL, still read by both). No variable sets the user on Unix (USER
 * is only libmysql's fallback after the passwd entry, and Windows' default), so MYSQL_USER is
 * given for scripts: `mariadb -u "$MYSQL_USER"`. Nothing reads a database from the environment;
 * scripts take it from DATABASE_URL.
 */
export function clientEnv(target: ServerTarget, login: string, password: string): Record<string, string> {
  return {
    MYSQL_HOST: target.host,
    MYSQL_TCP_PORT: String(target.port),
    MYSQL_USER: login,
    MYSQL_PWD: password,
  };
}

/**
 * A value in a MySQL/MariaDB option file (mysys my_default.c): double-quoted, so `#` does not
 * start a comment and spaces survive; inside, `\\`, `\"`, `\n`, `\r`, `\t` are the escapes both
 * servers' readers decode.
 */
export function optionValue(value: string): string {
  if (value.includes('\0')) throw new Error('an option value cannot contain a NUL character');
  const escaped = value.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
  return `"${escaped}"`;
}

/**
 * The client's option file. [client] is read by mysql and mariadb alike; `protocol=TCP` makes
 * host `localhost` mean TCP to that port, as the policy says, not the local socket. TLS options
 * differ: MariaDB's client takes `ssl`/`ssl-verify-server-cert` (in [client-mariadb], which only
 * MariaDB reads), while an unknown option (`ssl-mode`) makes it exit. Oracle's mysql uses TLS by
 * default (ssl-mode PREFERRED) and the account's REQUIRE SSL refuses it otherwise; certificate
 * checks with that client need `-- --ssl-mode=VERIFY_IDENTITY`.
 */
export function optionFileText(target: ServerTarget, login: string, password: string): string {
  const lines = [
    '[client]',
    `user=${optionValue(login)}`,
    `password=${optionValue(password)}`,
    `host=${optionValue(target.host)}`,
    `port=${Math.floor(target.port)}`,
    'protocol=TCP',
  ];
  // ssl-ca: both clients read it; Oracle's mysql then checks the chain (VERIFY_CA).
  if (target.tls !== 'disable' && target.tlsCa) lines.push(`ssl-ca=${optionValue(target.tlsCa)}`);
  // The client certificate: both clients read ssl-cert/ssl-key (REQUIRE X509 accounts).
  if (target.tls !== 'disable' && target.tlsCert && target.tlsKey) lines.push(`ssl-cert=${optionValue(target.tlsCert)}`, `ssl-key=${optionValue(target.tlsKey)}`);
  if (target.tls !== 'disable') {
    lines.push('', '[client-mariadb]', 'ssl');
    if (target.tls === 'verify-full') lines.push('ssl-verify-server-cert');
  }
  return lines.join('\n') + '\n';
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/**
 * The interactive client's launch: the credential in a fresh 0600 option file in `dir` (O_EXCL
 * and O_NOFOLLOW: nothing planted there is written through), named first on the command line
 * because --defaults-extra-file must come before any other option. No MYSQL_PWD.
 */
export async function clientLaunch(target: ServerTarget, login: string, password: string, dir: string): Promise<ClientLaunch> {
  const file = join(dir, `client-${crypto().randomBytes(8).toString('hex')}.cnf`);
  const fh = await open(file, O_WRONLY | O_CREAT | O_EXCL | (O_NOFOLLOW ?? 0), 0o600);
  try {
    await fh.writeFile(optionFileText(target, login, password));
  } catch (err) {
    await unlink(file).catch(() => {});
    throw err;
  } finally {
    await fh.close();
  }
  return { args: [`--defaults-extra-file=${file}`, `--database=${target.database}`], env: {}, files: [file] };
}
