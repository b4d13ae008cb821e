#!/usr/bin/env node
// Makes sure the real servers and tools the tests use are installed: PostgreSQL 15 (and pg_cron), MariaDB
// 10.11, the psql and mariadb clients, gnome-keyring + D-Bus for the Secret Service, tmux for
// terminal tests, fish and psycopg2 for the hand-out tests, Java with pgjdbc and MariaDB Connector/J for the JDBC tests,
// zsh (and fish) for completion. As root on a Debian machine it installs what is missing; otherwise it says
// what to install and fails.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needs = [
  { check: '/usr/lib/postgresql/15/bin/postgres', apt: 'postgresql' },
  // The pg_cron expiry backstop is tested on a PostgreSQL 15 server that preloads it.
  { check: '/usr/lib/postgresql/15/lib/pg_cron.so', apt: 'postgresql-15-cron' },
  { check: 'psql', apt: 'postgresql-client' },
  { check: '/usr/sbin/mariadbd', apt: 'mariadb-server' },
  { check: 'mariadb', apt: 'mariadb-client' },
  { check: 'dbus-run-session', apt: 'dbus-daemon' },
  // dbus-x11 provides the session bus gnome-keyring depends on without pulling in systemd.
  { check: 'gnome-keyring-daemon', apt: 'gnome-keyring dbus-x11' },
  { check: 'secret-tool', apt: 'libsecret-tools' },
  { check: 'tmux', apt: 'tmux' },
  // `jit env --format fish` is read back by a real fish.
  { check: 'fish', apt: 'fish' },
  // `jit completion zsh` is loaded into a real zsh.
  { check: 'zsh', apt: 'zsh' },
  // The hand-out tests run Debian's psycopg2 under the system python.
  { check: '/usr/lib/python3/dist-packages/psycopg2', apt: 'python3-psycopg2' },
  { check: '/usr/lib/python3/dist-packages/asyncpg', apt: 'python3-asyncpg' },
  { check: 'openssl', apt: 'openssl' },
  // `jit uri --format jdbc` and the client files are read back by the real JDBC drivers.
  { check: 'java', apt: 'default-jre-headless' },
  { check: '/usr/share/java/postgresql.jar', apt: 'libpostgresql-jdbc-java' },
  { check: '/usr/share/java/mariadb-java-client.jar', apt: 'libmariadb-java' },
];

// `npm test` right after a clone: install the npm dependencies first.
if (!existsSync(new URL('../node_modules/.package-lock.json', import.meta.url))) {
  console.error('installing npm dependencies (npm ci)');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit', cwd: new URL('..', import.meta.url) });
}

const onPath = (cmd) => (cmd.startsWith('/') ? existsSync(cmd) : spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0);
const missing = needs.filter((n) => !onPath(n.check));
if (missing.length === 0) process.exit(0);

const pkgs = [...new Set(missing.flatMap((m) => m.apt.split(' ')))];
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !onPath('apt-get')) {
  console.error(`error: the tests need: ${pkgs.join(' ')}`);
  console.error(`hint: sudo apt-get install -y ${pkgs.join(' ')}`);
  process.exit(1);
}
console.error(`installing test dependencies: ${pkgs.join(' ')}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], { stdio: 'inherit', env });
