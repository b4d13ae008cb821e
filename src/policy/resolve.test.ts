import { describe, expect, it } from 'vitest';
import { JitError } from '../core/errors.js';
import { parsePolicy } from './parse.js';
import { resolveRequest, type AccessRequest } from './resolve.js';

const POLICY = parsePolicy(
  `version: 1
databases:
  prod-db:
    engine: postgres
    host: db.internal
    database: app
    admin: {user: jit_admin}
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [public.orders, public.customers]
          - privileges: [USAGE]
            sequences: [orders_id_seq]
        member_of: [analytics_ro]
      support:
        max_ttl: 30m
        require_reason: true
        grants:
          - privileges: [SELECT, UPDATE]
            tables: [tickets]
          - privileges: [INSERT, SELECT]
            tables: [tickets]
          - privileges: [SELECT]
            schema: reporting
      writer:
        grants:
          - privileges: [SELECT, INSERT]
            tables: [tickets]
          - privileges: [USAGE]
            sequences: [tickets_id_seq]
          - privileges: [USAGE, SELECT]
            sequences: [audit_seq]
  shop:
    engine: mysql
    host: mysql.internal
    database: shop
    admin: {user: jit_admin}
    roles:
      readonly:
        grants:
          - privileges: [SELECT]
            tables: [orders]
`,
  '/etc/jit/policy.yaml',
);

function refusal(req: AccessRequest): JitError {
  try {
    resolveRequest(POLICY, req);
  } catch (e) {
    expect(e).toBeInstanceOf(JitError);
    expect((e as JitError).exitCode).toBe(2);
    return e as JitError;
  }
  throw new Error('request was accepted');
}

describe('resolveRequest', () => {
  it("returns the role's defaults when nothing is narrowed", () => {
    const r = resolveRequest(POLICY, { database: 'prod-db', role: 'readonly' });
    expect(r.db.name).toBe('prod-db');
    expect(r.ttlMs).toBe(15 * 60_000);
    expect(r.grants).toBe(r.role.grants);
    expect(r.memberOf).toEqual(['analytics_ro']);
    expect(r.narrowed).toBe(false);
  });

  it('refuses unknown databases and roles, listing the known ones', () => {
    const db = refusal({ database: 'toString', role: 'readonly' });
    expect(db.message).toBe('database "toString" is not in /etc/jit/policy.yaml');
    expect(db.hint).toBe('known: prod-db, shop');
    const role = refusal({ database: 'prod-db', role: 'admin' });
    expect(role.message).toBe('role "admin" is not in database "prod-db" in /etc/jit/policy.yaml');
    expect(role.hint).toBe('known: readonly, support, writer');
  });

  it('takes --ttl between 5s and max_ttl', () => {
    expect(resolveRequest(POLICY, { database: 'prod-db', role: 'readonly', ttl: '1h' }).ttlMs).toBe(3_600_000);
    expect(resolveRequest(POLICY, { database: 'prod-db', role: 'readonly', ttl: '5s' }).ttlMs).toBe(5_000);
    expect(refusal({ database: 'prod-db', role: 'readonly', ttl: '3s' }).message).toBe('--ttl 3s is below the 5s minimum');
    const high = refusal({ database: 'prod-db', role: 'readonly', ttl: '2h' });
    expect(high.message).toBe("--ttl 2h is above the role's max_ttl 1h");
    expect(high.hint).toBe('ask for at most 1h, or raise max_ttl in the policy');
    expect(refusal({ database: 'prod-db', role: 'readonly', ttl: 'soon' }).message).toBe('--ttl "soon" is not a duration');
    // Hostile input corpus: once an "Invalid time value" bug; max_ttl (at most 30d) bounds it now.
    expect(refusal({ database: 'prod-db', role: 'readonly', ttl: '200000000d' }).message).toBe("--ttl 200000000d is above the role's max_ttl 1h");
    expect(refusal({ database: 'prod-db', role: 'readonly', ttl: '99999999999999999999d' }).message).toMatch(/is above the role's max_ttl 1h$/);
  });

  it('requires a non-blank reason when the role says so', () => {
    for (const reason of [undefined, '', '   ']) {
      const e = refusal({ database: 'prod-db', role: 'support', reason });
      expect(e.message).toBe('role "support" requires a reason');
      expect(e.hint).toBe('pass --reason TEXT');
    }
    expect(resolveRequest(POLICY, { database: 'prod-db', role: 'support', reason: 'TICKET-1' }).ttlMs).toBe(15 * 60_000);
  });
});

describe('resolveRequest --only', () => {
  it("narrows to the requested tables and drops member_of, keeping the role's sequence grants", () => {
    const r = resolveRequest(POLICY, { database: 'prod-db', role: 'readonly', only: 'orders, public.orders' });
    expect(r.grants).toEqual([
      { privileges: ['SELECT'], tables: [{ schema: 'public', name: 'orders' }] },
      { privileges: ['USAGE'], sequences: [{ schema: 'public', name: 'orders_id_seq' }] },
    ]);
    expect(r.memberOf).toEqual([]);
    expect(r.narrowed).toBe(true);
  });

  it('takes a sequence the role grants, and then keeps only the sequences named', () => {
    const r = resolveRequest(POLICY, { database: 'prod-db', role: 'writer', only: 'tickets,tickets_id_seq' });
    expect(r.grants).toEqual([
      { privileges: ['SELECT', 'INSERT'], tables: [{ schema: 'public', name: 'tickets' }] },
      { privileges: ['USAGE'], sequences: [{ schema: 'public', name: 'tickets_id_seq' }] },
    ]);
    expect(resolveRequest(POLICY, { database: 'prod-db', role: 'writer', only: 'tickets' }).grants).toEqual([
      { privileges: ['SELECT', 'INSERT'], tables: [{ schema: 'public', name: 'tickets' }] },
      { privileges: ['USAGE'], sequences: [{ schema: 'public', name: 'tickets_id_seq' }] },
      { privileges: ['USAGE', 'SELECT'], sequences: [{ schema: 'public', name: 'audit_seq' }] },
    ]);
    expect(refusal({ database: 'prod-db', role: 'writer', only: 'orders_id_seq' }).hint).toBe(
      'role "writer" covers: public.tickets, sequence public.tickets_id_seq, sequence public.audit_seq',
    );
  });

  it('merges privileges per table and covers tables of a schema grant', () => {
    const r = resolveRequest(POLICY, { database: 'prod-db', role: 'support', reason: 'x', only: 'tickets,reporting.daily' });
    expect(r.grants).toEqual([
      { privileges: ['SELECT', 'INSERT', 'UPDATE'], tables: [{ schema: 'public', name: 'tickets' }] },
      { privileges: ['SELECT'], tables: [{ schema: 'reporting', name: 'daily' }] },
    ]);
  });

  it('reads bare names in the mysql database', () => {
    const r = resolveRequest(POLICY, { database: 'shop', role: 'readonly', only: 'orders' });
    expect(r.grants).toEqual([{ privileges: ['SELECT'], tables: [{ schema: 'shop', name: 'orders' }] }]);
  });

  it('refuses a table outside the role, naming what the role covers', () => {
    const e = refusal({ database: 'prod-db', role: 'readonly', only: 'orders,secrets' });
    expect(e.message).toBe('table "public.secrets" is not in role "readonly"');
    expect(e.hint).toBe('role "readonly" covers: public.orders, public.customers, sequence public.orders_id_seq');
    expect(refusal({ database: 'prod-db', role: 'support', reason: 'x', only: 'public.daily' }).hint).toBe(
      'role "support" covers: public.tickets, every table in reporting',
    );
  });

  it('refuses an empty or malformed --only', () => {
    expect(refusal({ database: 'prod-db', role: 'readonly', only: ' , ' }).message).toBe('--only needs at least one table');
    expect(refusal({ database: 'prod-db', role: 'readonly', only: '*' }).message).toBe('--only: "*": wildcards are refused');
    expect(refusal({ database: 'prod-db', role: 'readonly', only: 'x"; DROP TABLE t; --' }).message).toBe(
      '--only: "x\\"; DROP TABLE t; --" is not a table name',
    );
  });
});
