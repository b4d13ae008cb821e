import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { usageError } from '../core/errors.js';
import { KEY_NAME, KEY_NAME_RULE, identRule, isIdent } from './names.js';
import { checkRoleName } from './privileges.js';
import { ENGINE_NAMES, isEngineName, profileOf } from '../engines/registry.js';
import type { EngineProfile } from '../engines/profile.js';
import { validateRole } from './validate-role.js';
import { PolicyReader, type Spot } from './yaml-reader.js';
import type { AdminAuth, AdminConfig, DatabaseConfig, Policy, RoleConfig, TlsMode } from './types.js';

const TOP_KEYS = ['version', 'databases'];
const DB_KEYS = ['engine', 'host', 'port', 'database', 'tls', 'tls_ca', 'tls_cert', 'tls_key', 'admin', 'owner', 'roles'];
const ADMIN_KEYS = ['user', 'password', 'auth'];
const ADMIN_AUTH: readonly AdminAuth[] = ['scram-sha-256', 'md5', 'password'];
const TLS: readonly TlsMode[] = ['disable', 'require', 'verify-full'];
/** A policy is written by people; far larger input is an attack on the parser, refused before it. */
export const MAX_POLICY_BYTES = 1024 * 1024;
const SOURCE_HINT = 'use keychain (then run: jit admin set DB), env:NAME, or command:CMD';

/**
 * Parse and validate a policy. `file` becomes Policy.file (made absolute); `display` is how error
 * messages name the file. The first problem found is thrown as a usage error (exit 2).
 */
export function validatePolicy(text: string, file: string, display = file): Policy {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_POLICY_BYTES) {
    throw usageError(`${display}: the policy is ${bytes} bytes; at most ${MAX_POLICY_BYTES} (1 MiB) are accepted`, 'a policy this large is not one a person wrote; check the file');
  }
  const { reader: r, root } = PolicyReader.parse(text, display);
  if (r.scalar(root) !== undefined) r.fail(root, 'the policy must be a mapping with version and databases');
  const top = r.fields(root, TOP_KEYS);
  const version = top.get('version') ?? r.missing(root, 'version', 'add "version: 1" at the top');
  if (r.scalar(version) !== 1) r.fail(version, 'must be 1', 'this jit understands policy version 1');
  const dbsSpot = top.get('databases') ?? r.missing(root, 'databases', "see the annotated file 'jit init' writes");
  const entries = r.isEmpty(dbsSpot) ? [] : r.entries(dbsSpot);
  if (entries.length === 0) r.fail(dbsSpot, 'no databases are configured', 'add at least one database under databases:');
  // Null prototype: a database called "constructor" or "toString" must not collide with Object's.
  const databases: Record<string, DatabaseConfig> = Object.create(null);
  for (const e of entries) {
    if (!KEY_NAME.test(e.name)) r.fail({ ...dbsSpot, at: e.keyAt }, `${JSON.stringify(e.name)} is not a database name`, `use ${KEY_NAME_RULE}`);
    databases[e.name] = database(r, e.name, e.spot, dirname(resolve(file)));
  }
  return { file: resolve(file), version: 1, databases };
}

function database(r: PolicyReader, name: string, s: Spot, policyDir: string): DatabaseConfig {
  const f = r.fields(s, DB_KEYS);
  const names = ENGINE_NAMES.join(' or ');
  const engineSpot = f.get('engine') ?? r.missing(s, 'engine', ENGINE_NAMES.map((n) => `engine: ${n}`).join(' or '));
  const written = r.scalar(engineSpot);
  if (typeof written !== 'string' || !isEngineName(written)) {
    r.fail(engineSpot, `must be ${names}`, written === 'mariadb' ? 'use engine: mysql for MariaDB' : undefined);
  }
  const eng = written;
  const profile = profileOf(eng);
  const hostSpot = f.get('host') ?? r.missing(s, 'host');
  const host = r.string(hostSpot, 'a host name or address');
  if (/[\s\p{Cc}]/u.test(host)) r.fail(hostSpot, 'must not contain whitespace or control characters');
  const socketDir = host.startsWith('/');
  if (socketDir && !profile.capabilities.socketHost) {
    r.fail(hostSpot, `${profile.label} logins are handed out over TCP: a Unix socket path cannot be the host`, "give the server's host name or address and port (e.g. host: 127.0.0.1)");
  }
  const dbSpot = f.get('database') ?? r.missing(s, 'database', `the ${profile.databaseNoun} logins connect to`);
  const dbName = r.string(dbSpot, 'a database name');
  if (!isIdent(dbName, profile.maxIdentifierLength)) {
    r.fail(dbSpot, `${JSON.stringify(dbName)} is not a database name`, `a database name has ${identRule(profile.maxIdentifierLength)}`);
  }
  const admin = adminConfig(r, f.get('admin') ?? r.missing(s, 'admin', 'admin: { user: NAME, password: keychain }'));
  const owner = f.get('owner');
  const caSpot = f.get('tls_ca');
  const certSpot = f.get('tls_cert');
  const keySpot = f.get('tls_key');
  const rolesSpot = f.get('roles') ?? r.missing(s, 'roles');
  const roleEntries = r.isEmpty(rolesSpot) ? [] : r.entries(rolesSpot);
  if (roleEntries.length === 0) r.fail(rolesSpot, 'no roles are configured', 'add at least one role under roles:');
  const ctx = { profile, database: dbName, adminUser: admin.user };
  const roles: Record<string, RoleConfig> = Object.create(null);
  for (const e of roleEntries) roles[e.name] = validateRole(r, e, rolesSpot, ctx);
  const config: DatabaseConfig = {
    name,
    engine: eng,
    host,
    port: f.has('port') ? port(r, f.get('port')!) : profile.defaultPort,
    database: dbName,
    tls: f.has('tls') ? tls(r, f.get('tls')!) : 'require',
    ...(caSpot ? { tlsCa: caFile(r, caSpot, policyDir) } : {}),
    ...(certSpot ? { tlsCert: certFile(r, certSpot, policyDir) } : {}),
    ...(keySpot ? { tlsKey: keyFile(r, keySpot, policyDir) } : {}),
    admin,
    ...(owner ? { owner: ownerRole(r, owner, profile, admin.user) } : {}),
    roles,
  };
  // libpq ignores sslmode on a socket and node-postgres fails asking the server for TLS there:
  // refuse to promise encryption the login will not get.
  if (socketDir && config.tls !== 'disable') {
    r.fail(f.get('tls') ?? hostSpot, `a Unix socket carries no TLS, so tls: ${config.tls} cannot hold for ${host}`, "add tls: disable (the socket directory's permissions guard it), or give a TCP host");
  }
  if (caSpot && config.tls === 'disable') {
    r.fail(caSpot, 'tls: disable uses no certificate, so tls_ca would be ignored', 'use tls: verify-full (or require) with tls_ca, or remove tls_ca');
  }
  if ((certSpot || keySpot) && config.tls === 'disable') {
    const key = certSpot ? 'tls_cert' : 'tls_key';
    r.fail((certSpot ?? keySpot)!, `tls: disable sends no certificate, so ${key} would be ignored`, `use tls: require (or verify-full) with ${key}, or remove it`);
  }
  if (certSpot && !keySpot) r.missing(s, 'tls_key', 'tls_cert needs the private key of that certificate: add tls_key: FILE');
  if (keySpot && !certSpot) r.missing(s, 'tls_cert', 'tls_key needs the certificate it belongs to: add tls_cert: FILE');
  return config;
}

/** Read a file the policy names, relative to the policy's directory unless absolute, as latin1 text; or fail at its spot. */
function policyFile(r: PolicyReader, s: Spot, policyDir: string, what: string, hint: string): { path: string; text: string } {
  const written = r.string(s, `the path of ${what}`);
  if (/\p{Cc}/u.test(written)) r.fail(s, 'must not contain control characters');
  const path = resolve(policyDir, written);
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) r.fail(s, `${path} is not a file`, hint);
    if (st.size > MAX_POLICY_BYTES) r.fail(s, `${path} is ${st.size} bytes; ${what} is far smaller`, hint);
    text = readFileSync(path, 'latin1');
  } catch (e) {
    if (e instanceof Error && 'exitCode' in e) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    r.fail(s, code === 'ENOENT' ? `${path} does not exist` : `cannot read ${path}: ${code ?? String(e)}`, hint);
  }
  return { path, text };
}

/** `tls_cert`: the client certificate (PEM) jit and its logins present. */
function certFile(r: PolicyReader, s: Spot, policyDir: string): string {
  const hint = 'give the PEM file of the client certificate the server asks for; a relative path is relative to the policy file';
  const { path, text } = policyFile(r, s, policyDir, 'a client certificate (PEM)', hint);
  if (!text.includes('-----BEGIN CERTIFICATE-----')) r.fail(s, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, hint);
  return path;
}

/**
 * `tls_key`: the certificate's private key (PEM, unencrypted: no one is there to type a
 * passphrase for the reaper). libpq refuses a key file others may read, after the login was
 * minted; refuse it here instead, with libpq's own rule (0600, or 0640 when root owns it).
 */
function keyFile(r: PolicyReader, s: Spot, policyDir: string): string {
  const hint = 'give the PEM file of the private key of tls_cert; a relative path is relative to the policy file';
  const { path, text } = policyFile(r, s, policyDir, 'a private key (PEM)', hint);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) r.fail(s, `${path} holds no PEM private key (-----BEGIN PRIVATE KEY-----)`, hint);
  if (text.includes('ENCRYPTED')) r.fail(s, `${path} is encrypted; jit cannot ask for its passphrase`, `decrypt it into a file only you can read: openssl pkey -in ${path} -out client.key && chmod 600 client.key`);
  const st = statSync(path);
  const tooOpen = st.uid === 0 ? (st.mode & 0o037) !== 0 : (st.mode & 0o077) !== 0;
  if (process.platform !== 'win32' && tooOpen) {
    r.fail(s, `${path} may be read by others (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')}), and libpq refuses such a key`, `chmod 600 ${path}`);
  }
  return path;
}

/**
 * `tls_ca`: a PEM file, relative to the policy's directory unless absolute. Read now, so a wrong
 * path is a policy error rather than a login minted that no client can use.
 */
function caFile(r: PolicyReader, s: Spot, policyDir: string): string {
  const hint = 'give the PEM file of the CA that signed the server certificate; a relative path is relative to the policy file';
  const { path, text } = policyFile(r, s, policyDir, 'a CA certificate (PEM)', hint);
  if (!text.includes('-----BEGIN CERTIFICATE-----')) r.fail(s, `${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, hint);
  return path;
}

function port(r: PolicyReader, s: Spot): number {
  const v = r.scalar(s);
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) r.fail(s, 'must be an integer from 1 to 65535');
  return v;
}

function tls(r: PolicyReader, s: Spot): TlsMode {
  const v = r.scalar(s);
  if (!TLS.includes(v as TlsMode)) r.fail(s, `must be one of ${TLS.join(', ')}`, 'require encrypts; verify-full also checks the certificate and host name');
  return v as TlsMode;
}

function adminConfig(r: PolicyReader, s: Spot): AdminConfig {
  const f = r.fields(s, ADMIN_KEYS);
  const userSpot = f.get('user') ?? r.missing(s, 'user', 'the login jit uses to create and drop logins');
  const user = r.string(userSpot, 'a login name');
  if (/[\s\p{Cc}]/u.test(user)) r.fail(userSpot, 'must not contain whitespace or control characters');
  const pw = f.get('password');
  const auth = f.get('auth');
  return { user, password: pw ? passwordSource(r, pw) : 'keychain', ...(auth ? { auth: adminAuth(r, auth) } : {}) };
}

function adminAuth(r: PolicyReader, s: Spot): AdminAuth {
  const v = r.scalar(s);
  if (!ADMIN_AUTH.includes(v as AdminAuth)) {
    r.fail(s, `must be one of ${ADMIN_AUTH.join(', ')}`, 'scram-sha-256 never reveals the password; md5 and password hand it to whichever server asks');
  }
  return v as AdminAuth;
}

// Never echo the value: someone may have pasted the password itself here.
function passwordSource(r: PolicyReader, s: Spot): string {
  const v = r.scalar(s);
  if (typeof v !== 'string') r.fail(s, 'must be keychain, env:NAME or command:CMD', SOURCE_HINT);
  const t = v.trim();
  if (t === 'keychain') return t;
  if (t.startsWith('env:')) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(t.slice(4))) r.fail(s, 'env: must be followed by an environment variable name', SOURCE_HINT);
    return t;
  }
  if (t.startsWith('command:')) {
    if (t.slice(8).trim() === '') r.fail(s, 'command: must be followed by a command', 'e.g. command:op read op://ops/prod-db/password');
    return t;
  }
  r.fail(s, 'must be keychain, env:NAME or command:CMD; a password written in the policy is refused', SOURCE_HINT);
}

function ownerRole(r: PolicyReader, s: Spot, profile: EngineProfile, adminUser: string): string {
  // MySQL objects have no owner to hand over (Postgres: REASSIGN OWNED).
  if (!profile.capabilities.ownerHandover) r.fail(s, `${profile.label} objects have no owner to hand over`, 'remove owner:');
  const v = r.string(s, 'a role name');
  // Objects handed to a superuser or the admin keep running with its rights (a login's SECURITY
  // DEFINER function became superuser-owned at revoke). The server is asked again at mint.
  if (!isIdent(v, profile.maxIdentifierLength)) r.fail(s, `${JSON.stringify(v)} is not a role name`, `a role name has ${identRule(profile.maxIdentifierLength)}`);
  if (!checkRoleName(v, adminUser, profile).ok) {
    r.fail(s, `${JSON.stringify(v)} cannot own what logins leave behind`, 'name an ordinary NOLOGIN role such as app_owner');
  }
  return v;
}
