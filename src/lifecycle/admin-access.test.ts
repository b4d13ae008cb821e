import { describe, expect, it } from 'vitest';
import type { Engine } from '../engines/engine.js';
import { JitError, isServerError } from '../core/errors.js';
import { postgresProfile } from '../engines/postgres/postgres-profile.js';
import { openAdmin } from './admin-access.js';

// openAdmin rewrites the hint of a refused admin password to name where it came from; the error
// must stay an 'admin-auth' one, which the reaper (forget the credential, read the source again)
// and `admin set` (refuse to store it) act on.

const refusing = (kind: 'admin-auth' | 'unreachable'): Engine => ({
  name: 'postgres',
  profile: postgresProfile,
  connectAdmin: async () => {
    throw new JitError('admin login failed', { hint: 'engine hint', kind });
  },
  buildUri: () => '',
  buildJdbcUrl: () => '',
  clientEnv: () => ({}),
  clientFiles: () => ({ entries: [], service: '' }),
  clientLaunch: async () => ({ args: [], env: {}, files: [] }),
});

const ref = (adminSource: string) => ({
  database: 'db',
  adminSource,
  target: { engine: 'postgres' as const, host: 'h', port: 1, database: 'app', tls: 'disable' as const, adminUser: 'a' },
});

describe('openAdmin', () => {
  it('keeps a refused admin password an admin-auth error while naming its source in the hint', async () => {
    for (const [source, hint] of [
      ['env:PW', /the environment variable PW holds a password the server refuses/],
      ['command:pass show db', /the admin.password command printed a password the server refuses/],
      ['keychain', /jit admin set db/],
    ] as const) {
      const err = await openAdmin(ref(source), { env: {}, keychain: async () => { throw new Error('unused'); }, engine: async () => refusing('admin-auth') }, 'pw').catch((e: unknown) => e);
      expect(isServerError(err, 'admin-auth'), source).toBe(true);
      expect((err as JitError).hint).toMatch(hint);
    }
  });

  it('leaves other errors as the engine made them', async () => {
    const err = await openAdmin(ref('env:PW'), { env: {}, keychain: async () => { throw new Error('unused'); }, engine: async () => refusing('unreachable') }, 'pw').catch((e: unknown) => e);
    expect(isServerError(err, 'unreachable')).toBe(true);
    expect((err as JitError).hint).toBe('engine hint');
  });
});
