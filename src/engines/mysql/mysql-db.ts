import type { Connection } from 'mysql2/promise';

/** A row as mysql2 returns it (dateStrings: DATETIMEs are strings). */
export type Row = Record<string, unknown>;

/** The one admin connection, with statements split by whether they can be prepared. */
export interface Db {
  /** A query: `execute` (server-side prepared, true bind parameters) when there are params. */
  rows(sql: string, params?: unknown[]): Promise<Row[]>;
  /** A statement; returns affected rows. */
  run(sql: string, params?: unknown[]): Promise<number>;
}

export function dbOf(conn: Connection): Db {
  const send = async (sql: string, params?: unknown[]) => {
    const [result] = params && params.length > 0 ? await conn.execute(sql, params as never[]) : await conn.query(sql);
    return result as unknown;
  };
  return {
    async rows(sql, params) {
      const r = await send(sql, params);
      return Array.isArray(r) ? (r as Row[]) : [];
    },
    async run(sql, params) {
      const r = await send(sql, params);
      return Array.isArray(r) ? r.length : Number((r as { affectedRows?: number }).affectedRows ?? 0);
    },
  };
}

/** What revocation and minting need to know about the server. */
export interface ServerFlavor {
  mariadb: boolean;
  /** [major, minor, patch] of VERSION(). */
  version: [number, number, number];
}

/** `10.11.19-MariaDB-0+deb12u1-log` → MariaDB 10.11.19; `8.4.2` with comment `MySQL Community Server - GPL` → MySQL. */
export function parseFlavor(version: string, comment: string): ServerFlavor {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(version) ?? ['', '0', '0', '0'];
  const mariadb = /mariadb/i.test(version) || /mariadb/i.test(comment);
  return { mariadb, version: [Number(m[1]), Number(m[2]), Number(m[3])] };
}

export function atLeast(f: ServerFlavor, major: number, minor = 0, patch = 0): boolean {
  const [a, b, c] = f.version;
  return a !== major ? a > major : b !== minor ? b > minor : c >= patch;
}
