import { runtimeError, usageError } from '../core/errors.js';
import { redact, registerSecret } from '../core/redact.js';
import { KEYCHAIN_SERVICE, type Keychain } from './keychain.js';
import { childProcess } from '../core/builtins.js';

/** What resolving an admin secret may touch; tests pass a fixed env and a memory keychain. */
export interface SecretDeps {
  env: NodeJS.ProcessEnv;
  keychain: () => Promise<Keychain>;
  /** Kill a `command:` source after this long; 30 s unless a test needs it shorter. */
  commandTimeoutMs?: number;
}

type Source = { kind: 'keychain' } | { kind: 'env'; name: string } | { kind: 'command'; command: string };

const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
const POLICY_HINT = 'change admin.password in the policy';

/** `admin.password` as written in the policy: `keychain`, `env:NAME` or `command:CMD`. */
function parseSource(source: string): Source {
  const s = source.trim();
  if (s === 'keychain') return { kind: 'keychain' };
  if (s.startsWith('env:') && s.slice(4).trim()) return { kind: 'env', name: s.slice(4).trim() };
  if (s.startsWith('command:') && s.slice(8).trim()) return { kind: 'command', command: s.slice(8).trim() };
  throw usageError(`admin.password "${redact(s)}" is not keychain, env:NAME or command:…`, POLICY_HINT);
}

/** A one-line, secret-free description for `jit doctor` and error messages. */
export function describeSource(source: string, account?: string): string {
  const src = parseSource(source);
  if (src.kind === 'keychain') return `OS keychain (service ${KEYCHAIN_SERVICE}${account ? `, account ${account}` : ''})`;
  if (src.kind === 'env') return `environment variable ${src.name}`;
  const cmd = src.command.length > 60 ? `${src.command.slice(0, 59)}…` : src.command;
  return `command \`${redact(cmd)}\``;
}

/** Loads the admin password for `account` (the policy database name); registered for redaction before it is returned. */
export async function resolveAdminSecret(source: string, account: string, deps: SecretDeps): Promise<string> {
  const src = parseSource(source);
  let secret: string;
  if (src.kind === 'keychain') {
    const stored = await (await deps.keychain()).get(account);
    if (!stored) {
      throw runtimeError(`no admin password stored for "${account}" in the OS keychain`, `store it with 'jit admin set ${account}'`);
    }
    secret = stored;
  } else if (src.kind === 'env') {
    // Own properties only: env:toString must not read Object.prototype.toString.
    const value = Object.hasOwn(deps.env, src.name) ? deps.env[src.name] : undefined;
    if (!value) {
      throw runtimeError(`environment variable ${src.name} ${value === undefined ? 'is not set' : 'is empty'}`, `export ${src.name}=… or ${POLICY_HINT}`);
    }
    secret = value;
  } else {
    secret = await runSecretCommand(src.command, deps.env, deps.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
  }
  registerSecret(secret);
  return secret;
}

/**
 * Runs CMD through the shell; stdout is the secret. Its stderr is never shown: a failing secret
 * command (a vault CLI, a script) may write the secret, a token or a URL holding one there, in a
 * form redact() cannot recognise. The user reruns the command by hand to read it.
 */
async function runSecretCommand(command: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  const windows = process.platform === 'win32';
  const [shell, args] = windows ? [env.ComSpec ?? 'cmd.exe', ['/d', '/s', '/c', `"${command}"`]] : ['/bin/sh', ['-c', command]];
  const hint = `run the admin.password command by hand to see its error output (jit never shows it: it may hold a secret), or ${POLICY_HINT}`;
  const { code, signal, stdout, timedOut, overflow, spawnError } = await run(shell, args, env, windows, timeoutMs);
  if (spawnError) throw runtimeError(`could not run the admin password command: ${redact(spawnError.message)}`, hint);
  if (overflow) throw runtimeError(`admin password command printed more than ${MAX_STDOUT / 1024} KiB on stdout; jit stopped it`, hint);
  // Whatever reached stdout may be (part of) the secret: mask it in anything printed later.
  registerSecret(stdout.trim());
  if (timedOut) throw runtimeError(`admin password command did not finish within ${timeoutMs / 1000} s`, hint);
  if (code !== 0) {
    const why = code === null ? `was killed by ${signal}` : `exited with code ${code}`;
    throw runtimeError(`admin password command ${why}`, hint);
  }
  // Only the newline the command itself ends with: a secret may legitimately end in spaces.
  const secret = stdout.replace(/\r?\n$/, '');
  if (secret === '') throw runtimeError('admin password command printed nothing on stdout', hint);
  return secret;
}


interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  timedOut: boolean;
  /** stdout passed MAX_STDOUT: the command was killed and its output dropped. */
  overflow: boolean;
  spawnError?: Error;
}

/** No password is this long; a command printing more (cat /dev/zero) is stopped before memory runs out. */
const MAX_STDOUT = 64 * 1024;

/** The `command:` sources running now, each with the way to end it (and its process group). */
const running = new Set<() => void>();

/**
 * End every admin password command still running (a cancelled mint): the shell and whatever it
 * started, so nothing is left behind running when jit exits. Their resolveAdminSecret calls fail.
 */
export function endSecretCommands(): number {
  const n = running.size;
  for (const kill of [...running]) kill();
  return n;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, windows: boolean, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    // Own process group (POSIX) so a timeout kills the shell's children too, not only the shell.
    const child = childProcess().spawn(file, args, { env, stdio: ['ignore', 'pipe', 'ignore'], detached: !windows, windowsHide: true, windowsVerbatimArguments: windows });
    const out: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    let overflow = false;
    let spawnError: Error | undefined;
    const kill = () => {
      try {
        if (windows || child.pid === undefined) child.kill('SIGKILL');
        else process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    running.add(kill);
    child.stdout.on('data', (c: Buffer) => {
      if (overflow) return;
      size += c.length;
      if (size <= MAX_STDOUT) return void out.push(c);
      overflow = true;
      out.length = 0;
      kill();
    });
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    child.on('error', (e) => (spawnError = e));
    child.on('close', (code, signal) => {
      running.delete(kill);
      clearTimeout(timer);
      const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
      resolve({ code, signal, stdout: text(out), timedOut, overflow, spawnError });
    });
  });
}
