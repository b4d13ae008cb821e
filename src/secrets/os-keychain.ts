import type { AsyncEntry, EntryOptions } from '@napi-rs/keyring';
import { JitError, runtimeError } from '../core/errors.js';
import { redact } from '../core/redact.js';
import { KEYCHAIN_SERVICE, type Keychain } from './keychain.js';

export interface OsKeychainOptions {
  /** Upper bound for one keychain call; an unanswered unlock prompt must not hang jit. */
  timeoutMs?: number;
  /** For tests; defaults to process.platform. */
  platform?: NodeJS.Platform;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export const KEYCHAIN_ALTERNATIVES_HINT =
  'store the admin password elsewhere: password: env:NAME or password: command:… in the policy (e.g. command:op read op://vault/db/password)';
const OR_ELSEWHERE = 'or use password: env:NAME or password: command:… in the policy';

/** The OS credential store through @napi-rs/keyring: service `jit`, account = policy database name. */
export async function openOsKeychain(options: OsKeychainOptions = {}): Promise<Keychain> {
  const platform = options.platform ?? process.platform;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const backend = backendName(platform);
  // Loaded here, not at the top, so commands that never touch the keychain never load the native module.
  let Entry: typeof AsyncEntry;
  try {
    const mod = await import('@napi-rs/keyring');
    Entry = mod.AsyncEntry ?? (mod as unknown as { default: typeof mod }).default.AsyncEntry;
  } catch (err) {
    throw runtimeError(`the OS keychain is not available on this platform (${platform})`, KEYCHAIN_ALTERNATIVES_HINT, err);
  }
  // Left to its defaults the library silently falls back to the kernel keyring on Linux, which
  // forgets everything at reboot; pinning makes a missing Secret Service an error instead.
  const entryOptions: EntryOptions | undefined = platform === 'linux' ? { linux: { store: 'secret-service' } } : undefined;

  const call = async <T>(account: string, op: (entry: AsyncEntry, signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      // The constructor connects to D-Bus synchronously and throws when no Secret Service answers.
      const entry = new Entry(KEYCHAIN_SERVICE, account, entryOptions);
      return await withDeadline((signal) => op(entry, signal), timeoutMs, backend);
    } catch (err) {
      throw translateKeyringError(err, backend, platform);
    }
  };

  return {
    backend,
    get: (account) => call(account, (e, signal) => e.getPassword(signal)),
    set: (account, secret) => call(account, (e, signal) => e.setPassword(secret, signal)),
    delete: (account) => call(account, (e, signal) => e.deleteCredential(signal)),
  };
}

export function backendName(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'macOS Keychain';
  if (platform === 'win32') return 'Windows Credential Manager';
  return 'Secret Service';
}

/**
 * The native call runs on the libuv pool and only honours the signal before it starts, so a
 * prompt nobody answers would otherwise keep the promise pending forever: race a timer too.
 */
async function withDeadline<T>(work: (signal: AbortSignal) => Promise<T>, ms: number, backend: string): Promise<T> {
  const ctl = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ctl.abort();
      reject(
        runtimeError(
          `the OS keychain (${backend}) did not answer within ${ms >= 1000 ? `${ms / 1000} s` : `${ms} ms`}`,
          `unlock the keyring and retry, ${OR_ELSEWHERE}`,
        ),
      );
    }, ms);
  });
  try {
    return await Promise.race([work(ctl.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Every failure arrives as a plain Error with code "GenericFailure"; only the message tells them
 * apart. Messages below were observed with @napi-rs/keyring 2.1 and gnome-keyring 46.
 */
export function translateKeyringError(err: unknown, backend: string, platform: NodeJS.Platform): JitError {
  if (err instanceof JitError) return err;
  const raw = err instanceof Error ? err.message : String(err);
  // No DBUS_SESSION_BUS_ADDRESS: "…autolaunch was disabled at compile time, set your DBUS_SESSION_BUS_ADDRESS instead";
  // dead bus: "Failed to connect to socket …"; bus without provider: "…org.freedesktop.secrets was not provided by any .service files".
  if (/DBUS_SESSION_BUS_ADDRESS|Failed to connect to socket|not provided by any \.service files|ServiceUnknown|NameHasNoOwner/i.test(raw)) {
    return runtimeError("the OS keychain is not reachable: no Secret Service on this session's D-Bus", KEYCHAIN_ALTERNATIVES_HINT, err);
  }
  // A provider that owns the name but is stuck: libdbus gives up after its own reply timeout.
  if (/Did not receive a reply/i.test(raw)) {
    return runtimeError(`the OS keychain (${backend}) is not answering on this session's D-Bus`, `restart the keyring daemon and retry, ${OR_ELSEWHERE}`, err);
  }
  // Linux: "Secret Service: unlock prompt was dismissed" (also when no prompter can be shown, e.g. over SSH);
  // macOS: "User interaction is not allowed" / "User canceled the operation".
  if (/prompt was dismissed|\blocked\b|interaction is not allowed|cancel+ed/i.test(raw)) {
    return runtimeError(`the OS keychain (${backend}) is locked and was not unlocked`, `${unlockHint(platform)} and retry, ${OR_ELSEWHERE}`, err);
  }
  // gnome-keyring with no login keyring yet: nothing to store into, and creating one needs a prompt.
  if (/no result found/i.test(raw)) {
    return runtimeError(`the OS keychain (${backend}) has no default keyring to store into`, `create and unlock a login keyring (e.g. log in to a desktop session) and retry, ${OR_ELSEWHERE}`, err);
  }
  return runtimeError(`the OS keychain (${backend}) failed: ${redact(raw)}`, KEYCHAIN_ALTERNATIVES_HINT, err);
}

function unlockHint(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return "unlock it with 'security unlock-keychain'";
  if (platform === 'win32') return 'sign in to Windows interactively';
  return 'unlock the login keyring (log in to the desktop session, or answer its unlock prompt)';
}
