import type pg from 'pg';

export declare const PG_BIN: string;

export interface Cluster {
  host: '127.0.0.1';
  port: number;
  adminUser: 'postgres';
  adminPassword: string;
  database: 'app';
  dir: string;
  dataDir: string;
  logFile: string;
  admin(database?: string): Promise<pg.Client>;
  connect(user: string, password: string, database: string): Promise<pg.Client>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export declare function startCluster(opts?: { fixtureSql?: string; logStatements?: boolean; prefix?: string; maxConnections?: number; bin?: string; settings?: Record<string, string> }): Promise<Cluster>;
