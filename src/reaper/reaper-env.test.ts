import { describe, expect, it } from 'vitest';
import { reaperEnv } from './reaper-env.js';

describe('the reaper environment', () => {
  it('keeps what finds the state, keychain and CAs, and drops admin and lease secrets', () => {
    const env = reaperEnv(
      {
        PATH: '/usr/bin', HOME: '/home/a', LC_ALL: 'C', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/bus', NODE_EXTRA_CA_CERTS: '/ca.pem',
        PROD_ADMIN_PW: 'hunter2', JIT_TEST_ADMIN_PW: 'hunter3', PGPASSWORD: 'p', DATABASE_URL: 'postgres://u:p@h/d', MYSQL_PWD: 'm',
        JIT_LEASE_ID: 'abc', JIT_POLICY: '/p.yaml', VAULT_TOKEN: 's.x',
      },
      '/state',
    );
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/a', LC_ALL: 'C', DBUS_SESSION_BUS_ADDRESS: 'unix:path=/run/bus', NODE_EXTRA_CA_CERTS: '/ca.pem', JIT_HOME: '/state' });
  });
});
