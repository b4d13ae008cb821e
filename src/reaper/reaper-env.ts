/**
 * The environment the detached reaper starts with. It lives for as long as leases do, and any
 * process of the same user can read `/proc/<pid>/environ`, so it gets only what it needs to find
 * its state, reach the OS keychain and verify TLS: never an `env:` admin password source, a
 * lease's credential (`DATABASE_URL`, `PGPASSWORD`) or anything else it was not named to keep.
 * Admin credentials reach it over its socket, in memory only.
 */
const KEEP = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR', 'TEMP', 'TMP',
  'XDG_RUNTIME_DIR', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_STATE_HOME', 'XDG_CACHE_HOME',
  // The Secret Service (Linux keychain) is found through the session bus.
  'DBUS_SESSION_BUS_ADDRESS',
  // Certificate authorities for `tls: verify-ca|verify-full`.
  'NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR',
  // Windows and macOS equivalents of the above.
  'SYSTEMROOT', 'APPDATA', 'LOCALAPPDATA', 'USERPROFILE', 'TMPDIR',
  'JIT_HOME', 'JIT_REQUESTER', 'JIT_REAPER_LINGER',
]);

export function reaperEnv(env: NodeJS.ProcessEnv, stateDir: string): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (KEEP.has(k) || k.startsWith('LC_'))) out[k] = v;
  out.JIT_HOME = stateDir;
  return out;
}
