import type mysql from 'mysql2/promise';

export declare const MARIADBD: string;
export declare const MARIADB_INSTALL_DB: string;

export interface MariadbCluster {
  host: '127.0.0.1';
  port: number;
  adminUser: 'jitadmin';
  adminPassword: string;
  database: 'app';
  dir: string;
  socket: string;
  generalLogFile: string;
  /** Wall time from mkdtemp to the admin created. */
  startMs: number;
  /** root over the socket (superuser), multipleStatements on. The caller ends it. */
  admin(): Promise<mysql.Connection>;
  /** Any account over TCP 127.0.0.1 (default schema app; null for none). The caller ends it. */
  connect(user: string, password: string, database?: string | null): Promise<mysql.Connection>;
  stop(): Promise<void>;
}

export declare function startMariadbCluster(opts?: {
  fixtureSql?: string;
  /** The SQL that creates `jitadmin`@'%' with this password (default: what jit needs, grantable on `app`). */
  makeAdminSql?: (password: string) => string;
  grantsSql?: string;
  generalLog?: boolean;
  eventScheduler?: boolean;
  skipNameResolve?: boolean;
  prefix?: string;
}): Promise<MariadbCluster>;
