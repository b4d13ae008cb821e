/**
 * One server per engine for a whole test run, in the vitest main process (globalSetup), and the
 * readers/writer lock that lets test files share it.
 *
 * Test files (test/helpers/servers.ts) talk to the broker over a unix socket, one JSON object a
 * line, each request with an `id` that its reply repeats:
 * - `{op: 'server', engine}` starts that engine's server on first use (so a run that needs no
 *   PostgreSQL 18 never starts one) and replies with its coordinates.
 * - `{op: 'lock', engine, mode: 'shared' | 'exclusive'}` replies once granted. A connection holds
 *   at most one lock per engine, until `{op: 'unlock', engine}` or until it closes (a crashed
 *   worker releases what it held). Requests are served first come, first served: a request waits
 *   while it conflicts with a holder or with an earlier waiting request, so a file that needs the
 *   server to itself is not starved by a stream of ordinary files. A waiting connection holds
 *   nothing, and there is no upgrade, so nothing can deadlock.
 * - `{op: 'pause' | 'resume', engine}` stops / starts the server on the same port; only the holder
 *   of the exclusive lock may ask, so nobody else is connected when it goes down.
 * - `{op: 'seq'}` a number unique in this run (names of per-file databases and requesters).
 * The lock lives here rather than in the server because the server is what gets paused.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What a starter hands back: coordinates for test files (JSON) and control of the process. */
export interface StartedServer {
  coords: Record<string, unknown>;
  pause?(): Promise<void>;
  resume?(): Promise<void>;
  stop(): Promise<void>;
}

export type Starters = Record<string, () => Promise<StartedServer>>;

type Mode = 'shared' | 'exclusive';

interface LockRequest {
  conn: Socket;
  engine: string;
  mode: Mode;
  grant: () => void;
}

interface Request {
  id: number;
  op: 'server' | 'lock' | 'unlock' | 'pause' | 'resume' | 'seq';
  engine?: string;
  mode?: Mode;
}

export interface Broker {
  socketPath: string;
  close(): Promise<void>;
}

export async function startBroker(starters: Starters): Promise<Broker> {
  const dir = await mkdtemp(join(tmpdir(), 'jit-broker-'));
  const socketPath = join(dir, 'broker.sock');
  const servers = new Map<string, Promise<StartedServer>>();
  const holders: LockRequest[] = [];
  const waiting: LockRequest[] = [];
  let seq = 0;

  const conflicts = (a: LockRequest, b: LockRequest) => a.engine === b.engine && (a.mode === 'exclusive' || b.mode === 'exclusive');
  const pump = () => {
    for (let i = 0; i < waiting.length; i++) {
      const req = waiting[i]!;
      if (holders.some((h) => conflicts(h, req)) || waiting.slice(0, i).some((w) => conflicts(w, req))) continue;
      waiting.splice(i--, 1);
      holders.push(req);
      req.grant();
    }
  };
  const release = (conn: Socket, engine?: string) => {
    const mine = (r: LockRequest) => r.conn === conn && (engine === undefined || r.engine === engine);
    for (const list of [holders, waiting]) for (let i = list.length - 1; i >= 0; i--) if (mine(list[i]!)) list.splice(i, 1);
    pump();
  };

  const server = (engine: string): Promise<StartedServer> => {
    let s = servers.get(engine);
    if (!s) {
      const start = starters[engine];
      if (!start) return Promise.reject(new Error(`no test server for engine "${engine}" (known: ${Object.keys(starters).join(', ')})`));
      s = start();
      servers.set(engine, s);
    }
    return s;
  };

  const handle = async (conn: Socket, req: Request): Promise<Record<string, unknown>> => {
    const engine = req.engine ?? '';
    switch (req.op) {
      case 'seq':
        return { seq: ++seq };
      case 'server':
        return { coords: (await server(engine)).coords };
      case 'lock':
        if (holders.some((h) => h.conn === conn && h.engine === engine) || waiting.some((w) => w.conn === conn && w.engine === engine)) {
          throw new Error(`this connection already holds or waits for the ${engine} lock`);
        }
        await new Promise<void>((grant) => {
          waiting.push({ conn, engine, mode: req.mode === 'exclusive' ? 'exclusive' : 'shared', grant });
          pump();
        });
        return {};
      case 'unlock':
        release(conn, engine);
        return {};
      case 'pause':
      case 'resume': {
        if (!holders.some((h) => h.conn === conn && h.engine === engine && h.mode === 'exclusive')) {
          throw new Error(`${req.op} of the ${engine} server needs its exclusive lock: other test files are using it`);
        }
        const s = await server(engine);
        const control = req.op === 'pause' ? s.pause : s.resume;
        if (!control) throw new Error(`the ${engine} test server cannot ${req.op}`);
        await control();
        return {};
      }
      default:
        throw new Error(`unknown broker request ${JSON.stringify(req)}`);
    }
  };

  const conns = new Set<Socket>();
  const listener: Server = createServer((conn) => {
    conns.add(conn);
    conn.on('close', () => conns.delete(conn));
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => {});
    conn.on('close', () => release(conn));
    conn.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let req: Request;
        try {
          req = JSON.parse(line) as Request;
        } catch {
          conn.destroy();
          return;
        }
        handle(conn, req).then(
          (reply) => conn.writable && conn.write(JSON.stringify({ id: req.id, ok: true, ...reply }) + '\n'),
          (err: unknown) => conn.writable && conn.write(JSON.stringify({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) }) + '\n'),
        );
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen(socketPath, () => resolve());
  });

  return {
    socketPath,
    close: async () => {
      const closed = new Promise<void>((r) => listener.close(() => r()));
      for (const c of conns) c.destroy();
      await closed;
      const started = await Promise.allSettled(servers.values());
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
