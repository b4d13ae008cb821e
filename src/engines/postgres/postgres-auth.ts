import type { EventEmitter } from 'node:events';
import type { Client, ClientConfig } from 'pg';
import { JitError, runtimeError } from '../../core/errors.js';
import type { AdminAuth } from '../../policy/types.js';

type Asked = 'cleartext' | 'md5' | 'scram';

const METHOD: Record<Asked, string> = { cleartext: 'in cleartext', md5: 'as an MD5 hash', scram: 'by SCRAM' };
/** How weak a method is: a policy's admin.auth allows its own method and every stronger one. */
const WEAKNESS: Record<AdminAuth, number> = { 'scram-sha-256': 0, md5: 1, password: 2 };
const ASKED_WEAKNESS: Record<Asked, number> = { scram: 0, md5: 1, cleartext: 2 };
const OPT_IN: Record<Asked, AdminAuth> = { scram: 'scram-sha-256', md5: 'md5', cleartext: 'password' };

/**
 * A pg client for the admin login that answers only the password requests `auth` allows.
 * A server asking for the password in cleartext receives it as is; an MD5 hash is as good as the
 * password for logging in to that server. Anyone who can answer the TCP connection can ask (with
 * `tls: require` an impostor's self-signed certificate is accepted), so by default only SCRAM,
 * which never reveals the password, gets an answer; with TLS, SCRAM-SHA-256-PLUS binds the
 * exchange to the certificate the client saw, so a relay in the middle cannot complete it.
 *
 * pg asks for a function password lazily, only once the server has said which method it wants;
 * the connection's authentication events (emitted before the client's own listeners, which
 * connect() attaches later) tell which one it was. Throwing there sends nothing.
 */
export function guardedAdminClient(
  Pg: new (config: ClientConfig) => Client,
  config: ClientConfig & { password: string },
  auth: AdminAuth,
  at: string,
): Client {
  let asked: Asked | undefined;
  let mechanisms: string[] = [];
  const secret = config.password;
  const tls = config.ssl !== false && config.ssl !== undefined;
  const client = new Pg({
    ...config,
    enableChannelBinding: tls,
    password: () => {
      const method = asked ?? 'cleartext';
      if (ASKED_WEAKNESS[method] > WEAKNESS[auth]) throw refusal(at, method);
      // Every PostgreSQL that speaks TLS offers SCRAM-SHA-256-PLUS; one that does not is a relay
      // to a plaintext connection, where unbound SCRAM would let the relay log in as the admin.
      if (method === 'scram' && tls && !mechanisms.includes('SCRAM-SHA-256-PLUS')) throw unboundRefusal(at);
      return secret;
    },
  });
  const con = (client as unknown as { connection: EventEmitter }).connection;
  guardParser(con as unknown as ParsedConnection, at);
  con.on('authenticationCleartextPassword', () => (asked = 'cleartext'));
  con.on('authenticationMD5Password', () => (asked = 'md5'));
  con.on('authenticationSASL', (msg: { mechanisms?: string[] }) => {
    asked = 'scram';
    mechanisms = msg.mechanisms ?? [];
  });
  // A server that lets the admin in without asking for its password proved nothing about itself:
  // SCRAM's last step is where a real server shows it knows the admin's verifier. Anything that
  // answers the TCP port can send AuthenticationOk at once and then receive every statement jit
  // sends, and the hand-out would point at it. Over a unix socket the directory's permissions
  // decide who may answer, and peer or trust authentication there is the server's own choice.
  if (!isSocketDirectory(config.host)) {
    con.on('authenticationOk', () => {
      if (asked === undefined) throw unauthenticated(at);
    });
  }
  return client;
}

const isSocketDirectory = (host: string | undefined) => host !== undefined && host.startsWith('/');

function unauthenticated(at: string) {
  return runtimeError(
    `the server at ${at} let the admin in without asking for a password (trust authentication, or not the real server); jit stopped before sending anything`,
    'use scram-sha-256 for the admin user in the server\'s pg_hba.conf, and tls: verify-full so the server is authenticated',
  );
}

function refusal(at: string, method: Asked) {
  return runtimeError(
    `the server at ${at} asked for the admin password ${METHOD[method]}; jit refused to send it`,
    `if that server is yours, use scram-sha-256 in its pg_hba.conf, or allow it with admin.auth: ${OPT_IN[method]} in the policy (with tls: verify-full, so the server is authenticated)`,
  );
}

function unboundRefusal(at: string) {
  return runtimeError(
    `the server at ${at} offered SCRAM over TLS without channel binding (no SCRAM-SHA-256-PLUS); jit refused to answer`,
    'something between jit and the server may be relaying the login; check the address, and use tls: verify-full so the server is authenticated',
  );
}

interface ParsedConnection {
  attachListeners(stream: EventEmitter & { destroy(err?: Error): void }): void;
}

const UNSUPPORTED: Record<string, string> = { '7': 'GSSAPI', '8': 'GSSAPI', '9': 'SSPI' };

/**
 * pg-protocol's parser throws inside the socket's data handler on a message it does not know
 * (a GSSAPI or SSPI request, garbage from something that is not PostgreSQL): an uncaught
 * exception that ends jit with a stack trace. Turn it into a failed connection instead.
 */
function guardParser(con: ParsedConnection, at: string): void {
  const attach = con.attachListeners.bind(con);
  con.attachListeners = (stream) => {
    const on = stream.on;
    stream.on = function guarded(this: typeof stream, event: string | symbol, listener: (...args: unknown[]) => void) {
      if (event !== 'data') return on.call(this, event, listener);
      return on.call(this, event, (...args: unknown[]) => {
        try {
          listener(...args);
        } catch (err) {
          stream.destroy(err instanceof JitError ? err : unreadable(at, err));
        }
      });
    } as typeof stream.on;
    try {
      attach(stream);
    } finally {
      stream.on = on;
    }
  };
}

function unreadable(at: string, err: unknown) {
  const message = err instanceof Error ? err.message : String(err);
  const code = /^Unknown authenticationOk message type (\d+)$/.exec(message)?.[1];
  const name = code === undefined ? undefined : UNSUPPORTED[code];
  if (name) {
    return runtimeError(
      `the server at ${at} asked for ${name} authentication (request ${code}), which jit does not support for the admin login`,
      'use scram-sha-256 for the admin user in the server\'s pg_hba.conf',
    );
  }
  return runtimeError(`the server at ${at} sent a message jit cannot read: ${message}`, 'check that host and port in the policy point at a PostgreSQL server');
}
