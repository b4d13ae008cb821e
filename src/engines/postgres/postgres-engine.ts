import { isIP } from 'node:net';
import type { Client, ClientConfig } from 'pg';
import type { AdminSession, Engine, ServerTarget } from '../engine.js';
import { registerSecret } from '../../core/redact.js';
import { translatePgError } from './postgres-errors.js';
import { PostgresSession } from './postgres-session.js';
import { guardedAdminClient } from './postgres-auth.js';
import { buildJdbcUrl, buildUri, clientEnv } from './postgres-uri.js';
import { postgresProfile } from './postgres-profile.js';
import { clientFiles } from './postgres-client-files.js';
import { CHAIN_ONLY, readClientCert, readTlsCa } from '../tls-ca.js';
import { applyBootstrap, bootstrapSteps, shownStep } from './postgres-bootstrap.js';

/**
 * node-postgres settings for an admin connection; `tls` maps onto libpq's sslmode meanings:
 * require encrypts only, or with a `tls_ca` also checks the chain (libpq: a root certificate
 * makes require act as verify-ca); verify-full checks the chain and the host name. A policy
 * `tls_cert`/`tls_key` is presented as the client certificate.
 */
export function adminClientConfig(target: ServerTarget, password: string, database = target.database): ClientConfig & { password: string } {
  const ca = target.tls === 'disable' ? undefined : readTlsCa(target);
  const client = target.tls === 'disable' ? {} : readClientCert(target);
  const ssl =
    target.tls === 'disable'
      ? false
      : target.tls === 'require'
        ? ca
          ? { rejectUnauthorized: true, ca, ...client, ...CHAIN_ONLY }
          : { rejectUnauthorized: false, ...client }
        : // SNI must not carry an IP address (RFC 6066); Node still checks the certificate against the host.
          { rejectUnauthorized: true, ...(ca ? { ca } : {}), ...client, ...(isIP(target.host) ? {} : { servername: target.host }) };
  return {
    host: target.host,
    port: target.port,
    database,
    user: target.adminUser,
    password,
    ssl,
    connectionTimeoutMillis: target.connectTimeoutMs ?? 10_000,
    application_name: 'jit',
  };
}

/** Connect one admin client. `pg` is imported here so merely loading the engine loads no driver. */
async function openClient(target: ServerTarget, password: string, database: string): Promise<Client> {
  const { default: pg } = await import('pg');
  const at = `${target.host}:${target.port}`;
  const client = guardedAdminClient(pg.Client, adminClientConfig(target, password, database), target.adminAuth ?? 'scram-sha-256', at);
  // An idle client whose backend is terminated emits 'error'; unhandled, that would end jit.
  // The next query fails and is translated like any other error.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw translatePgError(err, {
      host: target.host,
      port: target.port,
      user: target.adminUser,
      database,
      phase: 'connect',
      name: target.name,
    });
  }
  return client;
}

export const postgresEngine: Engine = {
  name: 'postgres',
  profile: postgresProfile,

  async connectAdmin(target: ServerTarget, adminPassword: string): Promise<AdminSession> {
    registerSecret(adminPassword);
    const client = await openClient(target, adminPassword, target.database);
    return new PostgresSession(client, target, (database) => openClient(target, adminPassword, database));
  },

  bootstrap: {
    defaultDba: 'postgres',
    plan: (db) => bootstrapSteps(db).map(shownStep),
    async apply(target, dba, db, adminPassword) {
      registerSecret(dba.password);
      const asDba = { ...target, adminUser: dba.user };
      const client = await openClient(asDba, dba.password, target.database);
      try {
        return await applyBootstrap(client, db, adminPassword, (database) => openClient(asDba, dba.password, database));
      } catch (err) {
        throw translatePgError(err, { host: target.host, port: target.port, user: dba.user, database: target.database, phase: 'query', name: target.name });
      } finally {
        await client.end().catch(() => {});
      }
    },
  },

  buildUri,
  buildJdbcUrl,
  clientEnv,
  clientFiles,
  // psql takes everything from PG* in its environment; users keep their ~/.psqlrc.
  async clientLaunch(target, login, password, _dir, opts) {
    return { args: [], env: clientEnv(target, login, password, opts), files: [] };
  },
};
