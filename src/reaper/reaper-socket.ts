import { chmod } from 'node:fs/promises';
import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Server } from 'node:net';
import { ensurePrivateDir } from '../core/fs-secure.js';
import { ensurePrivateSocketDir, reaperSocketPath, type ReaperReply, type ReaperRequest } from './protocol.js';
import { bindSingleInstance, whoAnswers } from './reaper-server.js';

/** Without a change to the socket file, whoAnswers() confirms it still leads here this often. */
const ASK_EVERY_MS = 10_000;

/**
 * The reaper's unix socket: its single-instance lock and the way jit commands reach it. Kept
 * only while the path leads here; a reaper that lost it to another leaves.
 */
export class ReaperSocket {
  readonly path: string;
  private server: Server | null = null;
  // Set only once whoAnswers() confirmed the path leads here: read at bind time, it could be
  // the file of a racing reaper that took the path over in between.
  private boundIno: string | null = null;
  private askedAt = 0;
  /** The path leads to another reaper now: never close (and so unlink) it. */
  private lost = false;

  constructor(
    private readonly root: string,
    private readonly onRequest: (req: ReaperRequest) => ReaperReply,
    private readonly log: (line: string) => void,
  ) {
    this.path = reaperSocketPath(root);
  }

  /** Bind the path; false when another reaper holds it. */
  async bind(): Promise<boolean> {
    await this.makeDir();
    // Created 0600 from the start: no window in which another user could connect.
    process.umask(0o077);
    this.server = await bindSingleInstance(this.path, this.onRequest);
    if (!this.server) return false;
    await chmod(this.path, 0o600).catch(() => {});
    this.askedAt = Date.now();
    return true;
  }

  /**
   * Whether the path still leads here, asked every tick; listens again where its file or
   * directory vanished. False: another reaper holds it, and this one must leave.
   */
  async stillOurs(): Promise<boolean> {
    // Asking the socket who holds it costs a connection per tick (most of an idle reaper's CPU);
    // a takeover unlinks and binds a new socket file, so an unchanged file (inode and change
    // time) means still ours. Asked anyway every ASK_EVERY_MS.
    const ino = socketInode(this.path);
    const trusted = this.server !== null && ino !== null && ino === this.boundIno && Date.now() - this.askedAt < ASK_EVERY_MS;
    const holder = trusted ? process.pid : await whoAnswers(this.path);
    if (!trusted) this.askedAt = Date.now();
    if (holder === process.pid) this.boundIno = ino;
    if (holder === process.pid || holder === 'unknown') return true;
    // The path no longer leads here (a racing takeover, see bindSingleInstance). Never close()
    // this server: closing a unix socket server unlinks the path, which may be another's now.
    this.server?.unref();
    this.server = null;
    // 'nobody' also when the socket's directory was removed ($JIT_HOME, or a runtime dir at
    // logout): make it again and listen; failing that, keep reaping without a socket.
    let again: Server | null | undefined = null;
    if (holder === 'nobody') {
      again = await this.makeDir()
        .then(() => bindSingleInstance(this.path, this.onRequest))
        .catch((err) => {
          this.log(`reaper ${process.pid} cannot listen on ${this.path} (${err instanceof Error ? err.message : String(err)}); reaping on`);
          return undefined;
        });
    }
    if (again === null) {
      this.log(`reaper ${process.pid} leaving: ${holder === 'nobody' ? 'another reaper took' : `reaper ${holder} holds`} ${this.path}`);
      this.lost = true;
      return false;
    }
    if (again) {
      this.server = again;
      this.boundIno = null;
      await chmod(this.path, 0o600).catch(() => {});
    }
    return true;
  }

  /** Stop accepting: before the idle exit's last look at the lease files. */
  async close(): Promise<void> {
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
  }

  /** Listen again after close(); false when another reaper took the path meanwhile. */
  async reopen(): Promise<boolean> {
    this.server = await bindSingleInstance(this.path, this.onRequest);
    if (!this.server) return false;
    this.boundIno = null;
    return true;
  }

  /** On exit: close, unless the path leads to another reaper now. */
  release(): void {
    if (!this.lost) this.server?.close();
  }

  private async makeDir(): Promise<void> {
    if (dirname(this.path) === this.root) await ensurePrivateDir(this.root);
    else ensurePrivateSocketDir(this.path);
  }
}

/** The socket file's identity: a takeover's new file differs in inode or change time. */
function socketInode(path: string): string | null {
  const st = lstatSync(path, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.ino}:${st.ctimeNs}` : null;
}
