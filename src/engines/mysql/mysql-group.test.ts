import { describe, expect, it } from 'vitest';
import { GROUP_NAME_MAX, GROUP_PREFIX, groupDigest, groupName, splitAccount, type GroupSpec } from './mysql-group.js';
import { LOGIN_PREFIX } from '../../core/names.js';
import { isJitLoginName } from './mysql-revoke.js';
import { JIT_LOGIN_PATTERN } from './mysql-sql.js';

const spec = (o: Partial<GroupSpec> = {}): GroupSpec => ({
  policyDatabase: 'shop', database: 'app', role: 'readonly', admin: 'jit_admin', memberOf: [],
  grants: [{ privileges: ['SELECT'], tables: [{ schema: 'app', name: 'orders' }] }],
  ...o,
});

describe('group names', () => {
  it('jitgroup_<role>_<hash>: never a login name, one per policy database, schema, role and admin', () => {
    const g = groupName(spec());
    expect(g).toMatch(/^jitgroup_readonly_[0-9a-f]{10}$/);
    expect(g.startsWith(GROUP_PREFIX)).toBe(true);
    expect(g.startsWith(LOGIN_PREFIX)).toBe(false);
    expect(isJitLoginName(g)).toBe(false);
    const others = [spec({ policyDatabase: 'shop2' }), spec({ database: 'app2' }), spec({ role: 'readonly2' }), spec({ admin: 'other_admin' })].map(groupName);
    expect(new Set([g, ...others]).size).toBe(5);
  });

  it('a long or hostile role name is cut to fit and stays distinct through the hash', () => {
    const long = 'r'.repeat(200);
    const a = groupName(spec({ role: long }));
    const b = groupName(spec({ role: `${long}x` }));
    expect([...a].length).toBeLessThanOrEqual(GROUP_NAME_MAX);
    expect(a).not.toBe(b);
    expect(groupName(spec({ role: "o'ne`il\\" }))).toMatch(/^jitgroup_o'ne`il\\_[0-9a-f]{10}$/);
  });
});

describe('group digest', () => {
  it('changes with what the group holds, not with how the policy spells it', () => {
    const d = groupDigest(spec());
    expect(groupDigest(spec({ grants: [{ privileges: [' select '], tables: [{ schema: 'app', name: 'orders' }] }] }))).toBe(d);
    expect(groupDigest(spec({ grants: [{ privileges: ['SELECT', 'INSERT'], tables: [{ schema: 'app', name: 'orders' }] }] }))).not.toBe(d);
    expect(groupDigest(spec({ grants: [{ privileges: ['SELECT'], tables: [{ schema: 'app', name: 'customers' }] }] }))).not.toBe(d);
    expect(groupDigest(spec({ memberOf: ['analytics_ro'] }))).not.toBe(d);
    expect(groupDigest(spec({ grants: [{ privileges: ['SELECT'], schema: 'app' }] }))).not.toBe(d);
  });
});

describe('accounts', () => {
  it('CURRENT_USER() splits at its last @', () => {
    expect(splitAccount('jit_admin@%')).toEqual({ user: 'jit_admin', host: '%' });
    expect(splitAccount('a@b@10.0.0.%')).toEqual({ user: 'a@b', host: '10.0.0.%' });
  });
});

describe('who may hold a group', () => {
  it("the server-side login pattern agrees with isJitLoginName (a holder outside it makes the group someone else's)", () => {
    const re = new RegExp(JIT_LOGIN_PATTERN);
    for (const name of ['jit_alice_4ek1pq5vwu7l', 'jit_4ek1pq5vwu7lab', 'jit_alice_short', 'jitadmin', 'jit_Alice_4ek1pq5vwu7l', 'mallory', 'jit_a_4ek1pq5vwu7l ', 'jitgroup_readonly_0123456789']) {
      expect(re.test(name), name).toBe(isJitLoginName(name));
    }
  });
});
