import { join } from 'node:path';
import type { ClientFiles, ServerTarget } from '../engine.js';
import { optionFileText, optionValue } from './mysql-uri.js';

/**
 * The login's own option file, `jit-<db>-<role>.cnf`: `jit connect`'s [client] and
 * [client-mariadb] groups, and the database in [mysql] (read by mysql and mariadb; in [client]
 * mysqldump would take `database` for its --databases switch). Used as
 * `mysql --defaults-extra-file=FILE`; the file goes when the lease does.
 */
export function clientFiles(target: ServerTarget, login: string, password: string, ctx: { service: string; dir: string }): ClientFiles {
  const file = `${ctx.service}.cnf`;
  const text = `${optionFileText(target, login, password)}\n[mysql]\ndatabase=${optionValue(target.database)}\n`;
  return { entries: [{ file, slot: ctx.service, text }], service: join(ctx.dir, file) };
}
