import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JitError } from '../core/errors.js';
import { parsePolicy } from './parse.js';

/** The message of the usage error parsing `text` throws; fails the test when it does not throw one. */
function refusal(text: string): string {
  try {
    parsePolicy(text, 'jit.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(JitError);
    expect((e as JitError).exitCode).toBe(2);
    expect((e as JitError).message).not.toContain('\n');
    return (e as JitError).message;
  }
  throw new Error('policy was accepted');
}

function hintOf(text: string): string | undefined {
  try {
    parsePolicy(text, 'jit.yaml');
  } catch (e) {
    return (e as JitError).hint;
  }
  return undefined;
}

/** A valid policy whose database body (lines 4–13, indented 4) can be swapped piecewise. */
function db(over: { engine?: string; extra?: string; admin?: string; roles?: string } = {}): string {
  return [
    'version: 1',
    'databases:',
    '  prod-db:',
    `    engine: ${over.engine ?? 'postgres'}`,
    '    host: db.internal',
    '    database: app',
    over.admin ?? '    admin:\n      user: jit_admin',
    ...(over.extra ? [over.extra] : []),
    over.roles ?? '    roles:\n      readonly:\n        grants:\n          - privileges: [SELECT]\n            tables: [orders]',
    '',
  ].join('\n');
}

describe('parsePolicy defaults', () => {
  it('fills every default and makes the file absolute', () => {
    const p = parsePolicy(db(), 'jit.yaml');
    expect(isAbsolute(p.file)).toBe(true);
    const d = p.databases['prod-db'];
    expect(d).toMatchObject({ name: 'prod-db', engine: 'postgres', port: 5432, tls: 'require', database: 'app' });
    expect(d.admin).toEqual({ user: 'jit_admin', password: 'keychain' });
    expect(d.owner).toBeUndefined();
    expect(d.roles.readonly).toEqual({
      name: 'readonly',
      ttlMs: 15 * 60_000,
      maxTtlMs: 60 * 60_000,
      requireReason: false,
      connectionLimit: 5,
      grants: [{ privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }] }],
      memberOf: [],
      limits: {},
    });
  });

  it('uses 3306 and the policy database as the schema of bare tables on mysql', () => {
    const d = parsePolicy(db({ engine: 'mysql' }), 'jit.yaml').databases['prod-db'];
    expect(d.port).toBe(3306);
    expect(d.roles.readonly.grants[0].tables).toEqual([{ schema: 'app', name: 'orders' }]);
  });

  it('accepts aliases used for sharing grants', () => {
    const roles = '    roles:\n      a:\n        grants: &g\n          - privileges: [SELECT]\n            tables: [orders]\n      b:\n        grants: *g';
    const d = parsePolicy(db({ roles }), 'jit.yaml').databases['prod-db'];
    expect(d.roles.b.grants).toEqual(d.roles.a.grants);
  });

  it('does not let a database called "constructor" collide with Object.prototype', () => {
    const text = db().replace('prod-db', 'constructor');
    expect(parsePolicy(text, 'jit.yaml').databases.constructor.name).toBe('constructor');
  });
});

describe('parsePolicy refuses documents that are not a policy', () => {
  it('refuses an empty file and one with only comments', () => {
    expect(refusal('')).toBe('jit.yaml:1:1: the policy is empty');
    expect(refusal('# nothing\n# here\n')).toBe('jit.yaml:1:1: the policy is empty');
  });

  it('refuses a document that is not a mapping', () => {
    expect(refusal('- a\n- b\n')).toBe('jit.yaml:1:1: must be a mapping');
    expect(refusal('just text\n')).toBe('jit.yaml:1:1: the policy must be a mapping with version and databases');
  });

  it('reports YAML syntax errors with their line and column', () => {
    expect(refusal('version: 1\ndatabases: {a: [1, 2}\n')).toMatch(/^jit\.yaml:2:21: /);
    expect(refusal('version: 1\n  bad: indent\n')).toBe('jit.yaml:1:10: Nested mappings are not allowed in compact mappings');
  });

  it('refuses duplicate keys', () => {
    expect(refusal('version: 1\nversion: 1\n')).toBe('jit.yaml:2:1: duplicate key "version"');
    const roles = '    roles:\n      r:\n        member_of: [a]\n      r:\n        member_of: [b]';
    expect(refusal(db({ roles }))).toBe('jit.yaml:12:7: duplicate key "r"');
  });

  it('refuses a billion-laughs alias bomb quickly', { timeout: 2000 }, () => {
    let text = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    let prev = 'a';
    for (const n of 'bcdefghijk') {
      text += `${n}: &${n} [${Array(9).fill(`*${prev}`).join(',')}]\n`;
      prev = n;
    }
    expect(refusal(text)).toBe('jit.yaml:2:8: too many alias expansions (a YAML alias bomb?)');
  });

  it('refuses an alias with no anchor', () => {
    expect(refusal('version: *v\n')).toMatch(/^jit\.yaml:1:10: bad alias: /);
  });
});

describe('parsePolicy refuses bad top-level and database fields', () => {
  it('requires version 1', () => {
    expect(refusal('databases: {}\n')).toBe('jit.yaml:1:1: "version" is required');
    expect(refusal(db().replace('version: 1', 'version: 2'))).toBe('jit.yaml:1:10: version: must be 1');
    expect(refusal(db().replace('version: 1', 'version: "1"'))).toBe('jit.yaml:1:10: version: must be 1');
  });

  it('requires databases, and at least one', () => {
    expect(refusal('version: 1\n')).toBe('jit.yaml:1:1: "databases" is required');
    expect(refusal('version: 1\ndatabases:\n')).toBe('jit.yaml:2:1: databases: no databases are configured');
    expect(refusal('version: 1\ndatabases: {}\n')).toBe('jit.yaml:2:12: databases: no databases are configured');
  });

  it('refuses unknown keys at the top, in a database and in admin, naming the allowed ones', () => {
    expect(refusal(`${db()}extra: 1\n`)).toBe('jit.yaml:14:1: unknown key "extra"; allowed: version, databases');
    expect(refusal(db({ extra: '    hots: x' }))).toBe(
      'jit.yaml:9:5: databases.prod-db: unknown key "hots"; allowed: engine, host, port, database, tls, tls_ca, tls_cert, tls_key, admin, owner, roles',
    );
    expect(hintOf(db({ extra: '    hots: x' }))).toBe('did you mean "host"?');
    expect(hintOf(db({ extra: '    <<: {port: 1}' }))).toMatch(/^merge keys are not supported/);
    expect(refusal(db({ admin: '    admin:\n      user: a\n      pass: keychain' }))).toBe(
      'jit.yaml:9:7: databases.prod-db.admin: unknown key "pass"; allowed: user, password, auth',
    );
  });

  it('refuses bad database names', () => {
    expect(refusal(db().replace('prod-db', '"prod db"'))).toBe('jit.yaml:3:3: databases: "prod db" is not a database name');
    expect(refusal(db().replace('prod-db', '-x'))).toBe('jit.yaml:3:3: databases: "-x" is not a database name');
  });

  it('checks engine, host, port, database and tls', () => {
    expect(refusal(db().replace('    engine: postgres\n', ''))).toBe('jit.yaml:3:3: databases.prod-db: "engine" is required');
    expect(refusal(db({ engine: 'oracle' }))).toBe('jit.yaml:4:13: databases.prod-db.engine: must be postgres or mysql');
    expect(hintOf(db({ engine: 'mariadb' }))).toBe('use engine: mysql for MariaDB');
    expect(refusal(db().replace('    host: db.internal\n', ''))).toBe('jit.yaml:3:3: databases.prod-db: "host" is required');
    expect(refusal(db().replace('db.internal', '"db .internal"'))).toBe('jit.yaml:5:11: databases.prod-db.host: must not contain whitespace or control characters');
    expect(refusal(db().replace('db.internal', '""'))).toBe('jit.yaml:5:11: databases.prod-db.host: must be a host name or address');
    for (const port of ['0', '65536', '"5432"', '54.5']) {
      expect(refusal(db({ extra: `    port: ${port}` }))).toBe('jit.yaml:9:11: databases.prod-db.port: must be an integer from 1 to 65535');
    }
    expect(refusal(db().replace('    database: app\n', ''))).toBe('jit.yaml:3:3: databases.prod-db: "database" is required');
    expect(refusal(db({ extra: '    tls: verify' }))).toBe('jit.yaml:9:10: databases.prod-db.tls: must be one of disable, require, verify-full');
  });

  it('reads admin.auth, the weakest password request the admin answers (SCRAM only when absent)', () => {
    const auth = (v: string) => db({ admin: `    admin:\n      user: a\n      auth: ${v}` });
    expect(parsePolicy(db(), 'x').databases['prod-db'].admin.auth).toBeUndefined();
    for (const v of ['scram-sha-256', 'md5', 'password'] as const) expect(parsePolicy(auth(v), 'x').databases['prod-db'].admin.auth).toBe(v);
    expect(refusal(auth('cleartext'))).toBe('jit.yaml:9:13: databases.prod-db.admin.auth: must be one of scram-sha-256, md5, password');
    expect(refusal(auth('trust'))).toMatch(/admin\.auth: must be one of scram-sha-256, md5, password$/);
  });

  it('checks admin and the password source, never echoing a literal password', () => {
    expect(refusal(db({ admin: '    admin: {}' }))).toBe('jit.yaml:7:5: databases.prod-db.admin: "user" is required');
    expect(refusal(db({ admin: '' }).replace('\n\n', '\n'))).toBe('jit.yaml:3:3: databases.prod-db: "admin" is required');
    const pw = (v: string) => db({ admin: `    admin:\n      user: a\n      password: ${v}` });
    expect(parsePolicy(pw('env:PG_PASS'), 'x').databases['prod-db'].admin.password).toBe('env:PG_PASS');
    expect(parsePolicy(pw('command:op read op://x/y'), 'x').databases['prod-db'].admin.password).toBe('command:op read op://x/y');
    expect(refusal(pw('env:1BAD'))).toBe('jit.yaml:9:17: databases.prod-db.admin.password: env: must be followed by an environment variable name');
    expect(refusal(pw('"command:  "'))).toBe('jit.yaml:9:17: databases.prod-db.admin.password: command: must be followed by a command');
    const literal = refusal(pw('hunter2'));
    expect(literal).toBe(
      'jit.yaml:9:17: databases.prod-db.admin.password: must be keychain, env:NAME or command:CMD; a password written in the policy is refused',
    );
    expect(literal).not.toContain('hunter2');
  });

  it('allows owner on postgres only, and refuses reserved owners', () => {
    expect(parsePolicy(db({ extra: '    owner: app_owner' }), 'x').databases['prod-db'].owner).toBe('app_owner');
    expect(refusal(db({ engine: 'mysql', extra: '    owner: app_owner' }))).toBe(
      'jit.yaml:9:12: databases.prod-db.owner: MySQL/MariaDB objects have no owner to hand over',
    );
    expect(refusal(db({ extra: '    owner: pg_monitor' }))).toMatch(/^jit\.yaml:9:12: databases\.prod-db\.owner: "pg_monitor" cannot own/);
    expect(refusal(db({ extra: '    owner: \'a"b\'' }))).toBe('jit.yaml:9:12: databases.prod-db.owner: "a\\"b" is not a role name');
  });

  it('requires a non-empty roles mapping', () => {
    expect(refusal(db({ roles: '' }).replace(/\n\n$/, '\n'))).toBe('jit.yaml:3:3: databases.prod-db: "roles" is required');
    expect(refusal(db({ roles: '    roles: {}' }))).toBe('jit.yaml:9:12: databases.prod-db.roles: no roles are configured');
    expect(refusal(db({ roles: '    roles: [a]' }))).toBe('jit.yaml:9:12: databases.prod-db.roles: must be a mapping');
  });
});

describe('tls_ca', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit-policy-ca-'));
  mkdirSync(join(dir, 'certs'));
  writeFileSync(join(dir, 'certs', 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n');
  const file = join(dir, 'jit.yaml');
  const withCa = (ca: string, tls = 'verify-full') => db({ extra: `    tls: ${tls}\n    tls_ca: ${ca}` });
  const refusalAt = (text: string) => {
    try {
      parsePolicy(text, file, 'jit.yaml');
    } catch (e) {
      expect((e as JitError).exitCode).toBe(2);
      return `${(e as JitError).message} | ${(e as JitError).hint}`;
    }
    throw new Error('policy was accepted');
  };

  it('is read relative to the policy file, and kept as an absolute path', () => {
    expect(parsePolicy(withCa('certs/ca.pem'), file).databases['prod-db']!.tlsCa).toBe(join(dir, 'certs', 'ca.pem'));
    expect(parsePolicy(withCa(join(dir, 'certs', 'ca.pem'), 'require'), file).databases['prod-db']!.tlsCa).toBe(join(dir, 'certs', 'ca.pem'));
    expect(parsePolicy(db(), file).databases['prod-db']).not.toHaveProperty('tlsCa');
  });

  it('refuses a missing, unreadable, non-PEM or directory path, and tls: disable with a CA', () => {
    expect(refusalAt(withCa('certs/nope.pem'))).toBe(
      `jit.yaml:10:13: databases.prod-db.tls_ca: ${join(dir, 'certs', 'nope.pem')} does not exist | give the PEM file of the CA that signed the server certificate; a relative path is relative to the policy file`,
    );
    expect(refusalAt(withCa('certs'))).toMatch(/tls_ca: .*certs is not a file \|/);
    expect(refusalAt(withCa('key.pem'))).toMatch(/key\.pem holds no PEM certificate/);
    expect(refusalAt(withCa('certs/ca.pem', 'disable'))).toBe(
      'jit.yaml:10:13: databases.prod-db.tls_ca: tls: disable uses no certificate, so tls_ca would be ignored | use tls: verify-full (or require) with tls_ca, or remove tls_ca',
    );
    if (process.getuid?.() !== 0) {
      chmodSync(join(dir, 'key.pem'), 0);
      expect(refusalAt(withCa('key.pem'))).toMatch(/cannot read .*key\.pem: EACCES/);
    }
  });
});

describe('tls_cert and tls_key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jit-policy-cert-'));
  const CERT = '-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n';
  const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';
  writeFileSync(join(dir, 'client.crt'), CERT);
  writeFileSync(join(dir, 'client.key'), KEY, { mode: 0o600 });
  writeFileSync(join(dir, 'open.key'), KEY, { mode: 0o644 });
  chmodSync(join(dir, 'open.key'), 0o644);
  writeFileSync(join(dir, 'locked.key'), '-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIE\n-----END ENCRYPTED PRIVATE KEY-----\n', { mode: 0o600 });
  const file = join(dir, 'jit.yaml');
  const withCert = (cert?: string, key?: string, tls = 'require') =>
    db({ extra: [`    tls: ${tls}`, ...(cert ? [`    tls_cert: ${cert}`] : []), ...(key ? [`    tls_key: ${key}`] : [])].join('\n') });
  const refusalAt = (text: string) => {
    try {
      parsePolicy(text, file, 'jit.yaml');
    } catch (e) {
      expect((e as JitError).exitCode).toBe(2);
      return `${(e as JitError).message} | ${(e as JitError).hint}`;
    }
    throw new Error('policy was accepted');
  };

  it('are read relative to the policy file and kept as absolute paths', () => {
    const got = parsePolicy(withCert('client.crt', 'client.key'), file).databases['prod-db']!;
    expect(got).toMatchObject({ tlsCert: join(dir, 'client.crt'), tlsKey: join(dir, 'client.key') });
    expect(parsePolicy(db(), file).databases['prod-db']).not.toHaveProperty('tlsCert');
  });

  it('come in pairs, need TLS, and must hold what they say', () => {
    expect(refusalAt(withCert('client.crt'))).toBe('jit.yaml:3:3: databases.prod-db: "tls_key" is required | tls_cert needs the private key of that certificate: add tls_key: FILE');
    expect(refusalAt(withCert(undefined, 'client.key'))).toMatch(/"tls_cert" is required \| tls_key needs the certificate/);
    expect(refusalAt(withCert('client.crt', 'client.key', 'disable'))).toBe(
      'jit.yaml:10:15: databases.prod-db.tls_cert: tls: disable sends no certificate, so tls_cert would be ignored | use tls: require (or verify-full) with tls_cert, or remove it',
    );
    expect(refusalAt(withCert('client.key', 'client.key'))).toMatch(/tls_cert: .*client\.key holds no PEM certificate/);
    expect(refusalAt(withCert('client.crt', 'client.crt'))).toMatch(/tls_key: .*client\.crt holds no PEM private key/);
    expect(refusalAt(withCert('client.crt', 'nope.key'))).toMatch(/tls_key: .*nope\.key does not exist \|/);
    expect(refusalAt(withCert('client.crt', 'locked.key'))).toMatch(/locked\.key is encrypted; jit cannot ask for its passphrase \| decrypt it/);
  });

  it('refuse a key others may read, as libpq would after the login was minted', () => {
    expect(refusalAt(withCert('client.crt', 'open.key'))).toBe(
      `jit.yaml:11:14: databases.prod-db.tls_key: ${join(dir, 'open.key')} may be read by others (mode 0644), and libpq refuses such a key | chmod 600 ${join(dir, 'open.key')}`,
    );
  });
});
