import type { EngineProfile } from '../profile.js';

/** Every variable the mysql/mariadb clients and the common drivers read, plus DATABASE_URL. */
const MYSQL_ENV_NAMES: readonly string[] = [
  'MYSQL_HOST',
  'MYSQL_TCP_PORT',
  'MYSQL_UNIX_PORT',
  'MYSQL_PWD',
  'MYSQL_USER',
  'MYSQL_DATABASE',
  'MYSQL_HISTFILE',
  'MYSQL_HOME',
  'MYSQL_PS1',
  'MYSQL_TEST_LOGIN_FILE',
  'MARIADB_HOST',
  'MARIADB_PORT',
  'MARIADB_PWD',
  'MARIADB_USER',
  'DATABASE_URL',
];

export const mysqlProfile: EngineProfile = {
  name: 'mysql',
  label: 'MySQL/MariaDB',
  defaultPort: 3306,
  databaseNoun: 'default schema',
  // A MySQL schema is a database: a bare table name lives in the policy's database.
  defaultSchema: (database) => database,
  // No TRUNCATE privilege exists: TRUNCATE TABLE needs DROP, which jit never grants.
  tablePrivileges: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'REFERENCES', 'TRIGGER'],
  sequencePrivileges: null,
  refusedPrivileges: {
    TRUNCATE: 'MySQL has no TRUNCATE privilege (TRUNCATE TABLE needs DROP, which jit never grants)',
  },
  reservedRolePrefixes: ['mysql.', 'mariadb.'],
  superuserRoles: ['root', 'rdsadmin', 'mysql.sys', 'mysql.session', 'mysql.infoschema', 'mariadb.sys', 'azure_superuser', 'cloudsqlsuperuser'],
  // Plus `jit`, the ledger of every login and its expiry event: a grant there would let a login
  // read others' leases or delete its own row.
  systemSchema: (schema) => ['information_schema', 'mysql', 'performance_schema', 'sys', 'jit'].includes(schema.toLowerCase()),
  maxIdentifierLength: 64,
  // MySQL's limit (MariaDB allows 80): the shorter one, so a name works on both.
  maxLoginLength: 32,
  clientEnvNames: MYSQL_ENV_NAMES,
  client: {
    binaries: ['mariadb', 'mysql'],
    installHint: 'install the MariaDB or MySQL client (apt install mariadb-client, brew install mysql-client)',
  },
  // statement_timeout is MariaDB's per-account MAX_STATEMENT_TIME (MySQL 8 has none: refused at mint).
  unsupportedLimits: {
    idle_timeout: 'an account cannot carry its own idle limit (wait_timeout is server-wide or set by the session itself)',
    transaction_timeout: 'the server has no transaction time limit',
  },
  expiryBackstop: 'a one-shot event in the event scheduler',
  capabilities: { ownerHandover: false, sequences: false, socketHost: false, passwordFile: false },
};
