import { describe, expect, it } from 'vitest';
import { useMariadb } from '../helpers/servers.js';

describe('a shared MariaDB scope', () => {
  const m = useMariadb();
  it('has its own copy of the fixture schema, which the admin can grant from', async () => {
    const c = await m.connectAs(m.adminUser, m.adminPassword);
    try {
      const [rows] = await c.query('SELECT COUNT(*) AS n FROM orders');
      expect((rows as Array<{ n: number }>)[0]!.n).toBe(2);
      expect(m.database).toMatch(/^app_\d+$/);
    } finally {
      await c.end();
    }
  });
});

describe('an exclusive MariaDB scope', () => {
  const m = useMariadb({ exclusive: true });
  it('starts from a swept server and may change globals, which are put back', async () => {
    const root = await m.admin();
    try {
      await root.query("CREATE USER 'leftover'@'%'");
      await m.configure({ event_scheduler: 'OFF' });
      const [rows] = await root.query('SELECT @@GLOBAL.event_scheduler AS s');
      expect((rows as Array<{ s: string }>)[0]!.s).toBe('OFF');
    } finally {
      await root.end();
    }
  });
});

describe('a later exclusive scope', () => {
  const m = useMariadb({ exclusive: true });
  it('sees neither the account nor the setting the earlier one left', async () => {
    const root = await m.admin();
    try {
      const [users] = await root.query("SELECT COUNT(*) AS n FROM mysql.user WHERE User = 'leftover'");
      expect((users as Array<{ n: number }>)[0]!.n).toBe(0);
      const [rows] = await root.query('SELECT @@GLOBAL.event_scheduler AS s');
      expect((rows as Array<{ s: string }>)[0]!.s).toBe('ON');
    } finally {
      await root.end();
    }
  });
});
