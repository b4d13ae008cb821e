import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JitError } from '../core/errors.js';
import { loadPolicy, policyPath } from './load.js';
import { parsePolicy } from './parse.js';
import { starterPolicy } from './starter.js';

const EXAMPLES = join(dirname(fileURLToPath(import.meta.url)), '../../examples/policies');
const MINIMAL = 'version: 1\ndatabases:\n  d:\n    engine: postgres\n    host: h\n    database: app\n    admin: {user: a}\n    roles:\n      r: {member_of: [g]}\n';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jit-policy-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function loadError(opts: Parameters<typeof loadPolicy>[0]): Promise<JitError> {
  const e = await loadPolicy(opts).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(JitError);
  expect((e as JitError).exitCode).toBe(2);
  return e as JitError;
}

describe('policyPath', () => {
  it('prefers --policy, then $JIT_POLICY, then ./jit.yaml, then the XDG config file', () => {
    const cwd = join(dir, 'work');
    mkdirSync(cwd);
    const env = { HOME: join(dir, 'home'), JIT_POLICY: 'env.yaml', XDG_CONFIG_HOME: join(dir, 'xdg') };
    writeFileSync(join(cwd, 'jit.yaml'), MINIMAL);
    expect(policyPath({ flag: 'flag.yaml', env, cwd })).toEqual({ path: join(cwd, 'flag.yaml'), explicit: true });
    expect(policyPath({ env, cwd })).toEqual({ path: join(cwd, 'env.yaml'), explicit: true });
    expect(policyPath({ env: { ...env, JIT_POLICY: '' }, cwd })).toEqual({ path: join(cwd, 'jit.yaml'), explicit: false });
    rmSync(join(cwd, 'jit.yaml'));
    expect(policyPath({ env: { ...env, JIT_POLICY: undefined }, cwd })).toEqual({ path: join(dir, 'xdg/jit/policy.yaml'), explicit: false });
  });

  it('defaults XDG_CONFIG_HOME to $HOME/.config and ignores a relative one', () => {
    const home = join(dir, 'home');
    expect(policyPath({ env: { HOME: home }, cwd: dir }).path).toBe(join(home, '.config/jit/policy.yaml'));
    expect(policyPath({ env: { HOME: home, XDG_CONFIG_HOME: 'rel' }, cwd: dir }).path).toBe(join(home, '.config/jit/policy.yaml'));
  });
});

describe('loadPolicy', () => {
  it('loads ./jit.yaml and names it relatively in errors', async () => {
    writeFileSync(join(dir, 'jit.yaml'), MINIMAL);
    const p = await loadPolicy({ env: {}, cwd: dir });
    expect(p.file).toBe(join(dir, 'jit.yaml'));
    writeFileSync(join(dir, 'jit.yaml'), 'version: 2\n');
    expect((await loadError({ env: {}, cwd: dir })).message).toBe('jit.yaml:1:10: version: must be 1');
  });

  it('says when the named file does not exist', async () => {
    const e = await loadError({ flag: 'nope.yaml', env: {}, cwd: dir });
    expect(e.message).toBe(`policy file ${join(dir, 'nope.yaml')} does not exist`);
    expect(e.hint).toBe("create one with 'jit init' or pass --policy FILE");
    const fromEnv = await loadError({ env: { JIT_POLICY: join(dir, 'x.yaml') }, cwd: dir });
    expect(fromEnv.message).toBe(`policy file ${join(dir, 'x.yaml')} (from $JIT_POLICY) does not exist`);
  });

  it('says when no policy is found anywhere', async () => {
    const e = await loadError({ env: { HOME: join(dir, 'home') }, cwd: dir });
    expect(e.message).toBe(`no policy file found (looked for ${join(dir, 'jit.yaml')} and ${join(dir, 'home/.config/jit/policy.yaml')})`);
    expect(e.hint).toBe("create one with 'jit init' or pass --policy FILE");
  });

  it('refuses a policy over 1 MiB without reading all of it, also from a file that never ends', async () => {
    const big = join(dir, 'big.yaml');
    writeFileSync(big, MINIMAL + `# ${'x'.repeat(10 * 1024 * 1024)}\n`);
    const e = await loadError({ flag: big, env: {}, cwd: dir });
    expect(e.message).toBe('big.yaml: the policy is larger than 1048576 bytes (1 MiB), the most accepted');
    const zero = await loadError({ flag: '/dev/zero', env: {}, cwd: dir });
    expect(zero.message).toBe('/dev/zero: the policy is larger than 1048576 bytes (1 MiB), the most accepted');
  });

  it('refuses a directory', async () => {
    mkdirSync(join(dir, 'p.yaml'));
    expect((await loadError({ flag: 'p.yaml', env: {}, cwd: dir })).message).toBe(`policy file ${join(dir, 'p.yaml')} is a directory`);
  });
});

describe('shipped policies', () => {
  it('the starter policy parses, with prod-db readonly and support', () => {
    const p = parsePolicy(starterPolicy(), 'jit.yaml');
    const db = p.databases['prod-db'];
    expect(db.admin.password).toBe('keychain');
    expect(Object.keys(db.roles)).toEqual(['readonly', 'support']);
    expect(db.roles.support.requireReason).toBe(true);
  });

  it.each(readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')))('examples/policies/%s parses', (name) => {
    const p = parsePolicy(readFileSync(join(EXAMPLES, name), 'utf8'), join(EXAMPLES, name));
    expect(Object.keys(p.databases).length).toBeGreaterThan(0);
  });

  it('examples/policies/postgres.yaml has the four documented roles', () => {
    const p = parsePolicy(readFileSync(join(EXAMPLES, 'postgres.yaml'), 'utf8'), 'postgres.yaml');
    expect(Object.keys(p.databases['prod-db'].roles)).toEqual(['readonly', 'support', 'analyst', 'migrator']);
  });
});
