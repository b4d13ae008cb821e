import { createServer, connect, type Server, type Socket } from 'node:net';
import { unlink } from 'node:fs/promises';
import { assertOwnSocket } from './protocol.js';
import type { ReaperReply, ReaperRequest } from './protocol.js';

/**
 * Bind the reaper's unix socket: the bind itself is the single-instance lock. A socket file
 * nobody answers on (a reaper killed with -9) is stale: unlink it and bind again.
 * Resolves null when another reaper answers.
 *
 * Not airtight on its own: two reapers that both find the socket stale (or one that connects in
 * the instant between another's bind() and listen()) can each unlink and bind, leaving one
 * bound to a path that no longer leads to it. The reaper therefore checks with whoAnswers()
 * every tick that the path still reaches itself, and the loser leaves.
 */
/** How long a live reaper may take to answer `hello` before it counts as wedged. */
export const WEDGED_MS = 1500;

export async function bindSingleInstance(path: string, onRequest: (req: ReaperRequest) => ReaperReply): Promise<Server | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const server = createServer((sock) => serve(sock, onRequest));
    const bound = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
      server.once('error', (err) => resolve(err as NodeJS.ErrnoException));
      server.listen(path, () => resolve(null));
    });
    if (!bound) return server;
    if (bound.code !== 'EADDRINUSE') throw bound;
    // A reaper that accepts but does not answer within the bound is wedged (SIGSTOP, a hung
    // event loop): take the path over. If it wakes up, its next tick finds the path leads
    // elsewhere and it leaves (whoAnswers below), so two never keep reaping side by side.
    // Never talk to (or unlink) a socket another user put there: leave, as jit's client does.
    if (!isOwnSocket(path)) return null;
    if (typeof (await whoAnswers(path, WEDGED_MS)) === 'number') return null;
    await unlink(path).catch(() => {});
  }
  return null;
}

/**
 * Who answers `hello` on the socket path: a pid; 'nobody' when there is no socket file or the
 * connection is refused; 'unknown' when no reply came in time (a busy machine, not a verdict).
 */
export function whoAnswers(path: string, timeoutMs = 1000): Promise<number | 'nobody' | 'unknown'> {
  return new Promise((resolve) => {
    const s = connect(path);
    let buf = '';
    const done = (v: number | 'nobody' | 'unknown') => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done('unknown'), timeoutMs);
    s.setEncoding('utf8');
    s.once('connect', () => s.write(`${JSON.stringify({ type: 'hello' } satisfies ReaperRequest)}\n`));
    s.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        const reply = JSON.parse(buf.slice(0, nl)) as ReaperReply;
        done(reply.ok ? reply.pid : 'unknown');
      } catch {
        done('unknown');
      }
    });
    s.once('error', (err: NodeJS.ErrnoException) => done(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'nobody' : 'unknown'));
  });
}

function isOwnSocket(path: string): boolean {
  try {
    assertOwnSocket(path);
    return true;
  } catch (err) {
    // Gone meanwhile: nothing to talk to, bind again.
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function serve(sock: Socket, onRequest: (req: ReaperRequest) => ReaperReply): void {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('error', () => {});
  sock.on('data', (chunk: string) => {
    buf += chunk;
    if (buf.length > 1 << 20) return sock.destroy();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      let reply: ReaperReply;
      try {
        reply = onRequest(JSON.parse(line) as ReaperRequest);
      } catch (err) {
        reply = { ok: false, error: err instanceof Error ? err.message : 'bad request' };
      }
      sock.write(`${JSON.stringify(reply)}\n`);
    }
  });
}
