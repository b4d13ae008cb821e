import type { AdminAccessDeps } from './context.js';
import type { AdminSession, Engine, ServerTarget } from '../engines/engine.js';
import type { EngineName } from '../policy/types.js';
import { resolveAdminSecret } from '../secrets/admin-secret.js';
import { JitError, isJitError, isServerError } from '../core/errors.js';

/** Where a database's admin credential lives, and where its server is. */
export interface AdminRef {
  /** Policy database name: the keychain account. */
  database: string;
  target: ServerTarget;
  adminSource: string;
}

const secretCache = new Map<string, Promise<string>>();
const cacheKey = (database: string, adminSource: string) => `${database}\u0000${adminSource}`;

/** Load the admin secret once per process per (database, source). */
export function adminSecret(ref: AdminRef, deps: Pick<AdminAccessDeps, 'env' | 'keychain'>): Promise<string> {
  const key = cacheKey(ref.database, ref.adminSource);
  let p = secretCache.get(key);
  if (!p) {
    p = resolveAdminSecret(ref.adminSource, ref.database, { env: deps.env, keychain: deps.keychain });
    p.catch(() => secretCache.delete(key));
    secretCache.set(key, p);
  }
  return p;
}

/** Forget every secret loaded for a (database, source) that none of `keep` names. */
export function retainAdminSecrets(keep: Iterable<{ database: string; adminSource: string }>): void {
  const kept = new Set([...keep].map((k) => cacheKey(k.database, k.adminSource)));
  for (const key of [...secretCache.keys()]) if (!kept.has(key)) secretCache.delete(key);
}

/** After the server refused it (admin-auth): read the source again next time. */
export function forgetAdminSecret(database: string, adminSource: string): void {
  secretCache.delete(cacheKey(database, adminSource));
}

export interface OpenedAdmin {
  engine: Engine;
  session: AdminSession;
  secret: string;
}

/** Load the secret and connect as the admin. The caller closes the session. */
export async function openAdmin(ref: AdminRef, deps: AdminAccessDeps, secret?: string): Promise<OpenedAdmin> {
  const [engine, pw] = await Promise.all([deps.engine(ref.target.engine as EngineName), secret ?? adminSecret(ref, deps)]);
  try {
    const session = await engine.connectAdmin(ref.target, pw);
    return { engine, session, secret: pw };
  } catch (err) {
    throw withSourceHint(err, ref);
  }
}

/** A refused admin password: the hint names where that password came from. */
function withSourceHint(err: unknown, ref: AdminRef): unknown {
  if (!isJitError(err) || !isServerError(err, 'admin-auth')) return err;
  const src = ref.adminSource;
  const hint = src.startsWith('env:')
    ? `the environment variable ${src.slice(4)} holds a password the server refuses`
    : src.startsWith('command:')
      ? `the admin.password command printed a password the server refuses`
      : `store the right one with 'jit admin set ${ref.database}'`;
  return new JitError(err.message, { hint, exitCode: err.exitCode, cause: err.cause, kind: 'admin-auth' });
}

/** Run fn with an admin session, always closing it. */
export async function withAdmin<T>(ref: AdminRef, deps: AdminAccessDeps, fn: (a: OpenedAdmin) => Promise<T>): Promise<T> {
  const opened = await openAdmin(ref, deps);
  try {
    return await fn(opened);
  } finally {
    await opened.session.close().catch(() => {});
  }
}
