import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JIT_BIN } from '../helpers/jit-cli.js';
import { startInTmux, type Term } from '../helpers/tmux.js';
import { shellQuote } from '../../src/core/shell-quote.js';
import { LeaseStore } from '../../src/leases/lease-store.js';
import { removeTestDir } from '../helpers/processes.js';

// `jit completion bash|zsh|fish` loaded into the real shells: database names, a role after
// --role, flags and lease ids come back from `jit __complete`. No server: the policy and a lease
// file are all completion reads.

const POLICY = `version: 1
databases:
  prod-db:
    engine: postgres
    host: db.internal
    database: app
    admin: { user: jit_admin }
    roles:
      readonly:
        ttl: 15m
        grants:
          - privileges: [SELECT]
            tables: [public.orders]
      support:
        ttl: 10m
        max_ttl: 30m
        grants:
          - privileges: [SELECT]
            tables: [public.customers]
  shop:
    engine: mysql
    host: 127.0.0.1
    database: shop
    admin: { user: jit_admin }
    roles:
      analyst:
        grants:
          - privileges: [SELECT]
            tables: [shop.orders]
`;
const LEASE_ID = 'k3f9x2m7qa';

let dir: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jit-completion-'));
  // `jit` on PATH, as the scripts call it.
  await mkdir(join(dir, 'bin'));
  await writeFile(join(dir, 'bin', 'jit'), `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(JIT_BIN)} "$@"\n`);
  await chmod(join(dir, 'bin', 'jit'), 0o755);
  await writeFile(join(dir, 'policy.yaml'), POLICY);
  await writeFile(join(dir, 'broken.yaml'), 'version: 1\ndatabases: [\n');
  env = {
    PATH: `${join(dir, 'bin')}:${process.env.PATH}`,
    HOME: dir,
    LANG: 'C.UTF-8',
    JIT_HOME: join(dir, 'state'),
    JIT_POLICY: join(dir, 'policy.yaml'),
    JIT_NO_REAPER: '1',
    NO_COLOR: '1',
  };
  const now = Date.now();
  await new LeaseStore(join(dir, 'state')).save({
    id: LEASE_ID,
    database: 'prod-db',
    role: 'readonly',
    user: 'jit_alice_0123456789ab',
    target: { engine: 'postgres', host: 'db.internal', port: 5432, database: 'app', tls: 'require', adminUser: 'jit_admin' },
    adminSource: 'keychain',
    requester: 'alice',
    requesterHost: 'laptop',
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 15 * 60_000).toISOString(),
    maxExpiresAt: new Date(now + 60 * 60_000).toISOString(),
    clockSkewMs: 0,
    state: 'active',
    command: 'uri',
  });
});
afterAll(async () => {
  await removeTestDir(dir);
});

const run = (cmd: string, args: string[], extra: NodeJS.ProcessEnv = {}) => {
  const r = spawnSync(cmd, args, { cwd: dir, env: { ...env, ...extra }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('bash', () => {
  /** What Tab offers after `line` (the words as bash splits them, the last one being completed). */
  const complete = (words: string[], extra: NodeJS.ProcessEnv = {}) => {
    const script = [
      'source <(jit completion bash)',
      `COMP_WORDS=(${words.map(shellQuote).join(' ')})`,
      'COMP_CWORD=$((${#COMP_WORDS[@]} - 1))',
      'COMP_LINE="${COMP_WORDS[*]}"',
      'COMP_POINT=${#COMP_LINE}',
      '_jit',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const r = run('bash', ['--norc', '--noprofile', '-c', script], extra);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  };

  it('loads, and completes a command', () => {
    expect(complete(['jit', 'rev'])).toEqual(['revoke']);
    expect(complete(['jit', 'admin', ''])).toEqual(['set', 'test', 'bootstrap', 'forget']);
  });

  it('completes a database name from the policy', () => {
    expect(complete(['jit', 'uri', ''])).toEqual(['prod-db', 'shop']);
    expect(complete(['jit', 'connect', 'pr'])).toEqual(['prod-db']);
    expect(complete(['jit', 'list', '--database', 's'])).toEqual(['shop']);
  });

  it("completes a role after --role: the named database's roles", () => {
    expect(complete(['jit', 'uri', 'prod-db', '--role', ''])).toEqual(['readonly', 'support']);
    expect(complete(['jit', 'env', 'shop', '--role', ''])).toEqual(['analyst']);
    // --role=… arrives split at "=" (COMP_WORDBREAKS); bash replaces only the part after it.
    expect(complete(['jit', 'uri', 'prod-db', '--role', '=', 're'])).toEqual(['readonly']);
    expect(complete(['jit', 'uri', 'prod-db', '--role', '='])).toEqual(['=readonly', '=support']);
  });

  it('completes flags, and the values of a flag with choices', () => {
    expect(complete(['jit', 'uri', 'prod-db', '--r'])).toEqual(['--role', '--reason']);
    expect(complete(['jit', 'env', 'prod-db', '--format', ''])).toEqual(['sh', 'fish', 'dotenv', 'json']);
  });

  it('completes a lease id for revoke and extend', () => {
    expect(complete(['jit', 'revoke', ''])).toEqual([LEASE_ID]);
    expect(complete(['jit', 'extend', 'k3'])).toEqual([LEASE_ID]);
  });

  it('uses the policy the other commands would (--policy, $JIT_POLICY), and says nothing when it is broken', () => {
    expect(complete(['jit', 'uri', ''], { JIT_POLICY: join(dir, 'broken.yaml') })).toEqual([]);
    expect(complete(['jit', 'uri', ''], { JIT_POLICY: join(dir, 'missing.yaml') })).toEqual([]);
    expect(complete(['jit', '--policy', 'policy.yaml', 'uri', ''], { JIT_POLICY: join(dir, 'broken.yaml') })).toEqual(['prod-db', 'shop']);
    // Commands and flags come from jit itself, policy or not.
    expect(complete(['jit', 'uri', '--ro'], { JIT_POLICY: join(dir, 'broken.yaml') })).toEqual(['--role']);
  });

  it('falls back to file names where jit takes a file, or after exec --', () => {
    expect(complete(['jit', 'policy', 'check', 'bro'])).toEqual(['broken.yaml']);
    expect(complete(['jit', 'exec', 'prod-db', '--', 'poli'])).toEqual(['policy.yaml']);
  });
});

describe('fish', () => {
  const complete = (line: string) => {
    const r = run('fish', ['--no-config', '-c', `jit completion fish | source; complete -C ${shellQuote(line)}`]);
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean);
  };

  it('completes databases, roles, flags and lease ids, with descriptions', () => {
    expect(complete('jit uri ')).toEqual(['prod-db\tpostgres db.internal:5432/app', 'shop\tmysql 127.0.0.1:3306/shop']);
    expect(complete('jit uri prod-db --role ').map((l) => l.split('\t')[0])).toEqual(['readonly', 'support']);
    expect(complete('jit uri prod-db --role=r').map((l) => l.split('\t')[0])).toEqual(['--role=readonly']);
    expect(complete('jit uri prod-db --rea')).toEqual(['--reason\twhy you need access (recorded in the audit trail)']);
    expect(complete('jit revoke ')[0]).toMatch(new RegExp(`^${LEASE_ID}\tprod-db readonly jit_alice_0123456789ab, expires in 1[45]m`));
  });
});

describe('zsh', () => {
  let term: Term;
  beforeAll(async () => {
    await mkdir(join(dir, 'zsh'));
    await writeFile(join(dir, 'zsh', '.zshrc'), "PS1='zsh%% '\nautoload -U compinit && compinit -u\nsource <(jit completion zsh)\n");
    term = startInTmux('zsh-completion', dir, { ...env, ZDOTDIR: join(dir, 'zsh') }, 'zsh -i');
    expect(await term.waitFor(/^zsh% ?$/m)).toBe(true);
  });
  afterAll(() => term?.kill());

  /** Type `text`, press Tab, and wait until the screen shows `expected`; then clear the screen. */
  const tab = async (text: string, expected: RegExp) => {
    term.type(text);
    term.send('Tab');
    const ok = await term.waitFor(expected);
    const screen = term.screen();
    term.send('C-c');
    term.type('clear');
    term.send('Enter');
    // Nothing on the screen but a fresh prompt: the next line typed starts clean.
    await term.waitFor(/^\s*zsh% ?\s*$/);
    return ok ? expected : JSON.stringify(screen.trim());
  };

  it('completes a database name, a role after --role, a flag and a lease id', async () => {
    expect(await tab('jit uri p', /^zsh% jit uri prod-db ?$/m)).toEqual(/^zsh% jit uri prod-db ?$/m);
    const roles = /^readonly\s+-- prod-db, ttl 15m\nsupport\s+-- prod-db, ttl 10m$/m;
    expect(await tab('jit uri prod-db --role ', roles)).toEqual(roles);
    expect(await tab('jit uri prod-db --rea', /^zsh% jit uri prod-db --reason ?$/m)).toEqual(/^zsh% jit uri prod-db --reason ?$/m);
    expect(await tab('jit revoke ', new RegExp(`^zsh% jit revoke ${LEASE_ID} ?$`, 'm'))).toEqual(new RegExp(`^zsh% jit revoke ${LEASE_ID} ?$`, 'm'));
  });
});
