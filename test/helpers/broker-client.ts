/**
 * A test file's connection to the run's server broker (test/setup/server-broker.ts). Locks belong
 * to the connection: closing it (or the worker dying) releases them.
 */
import { connect, type Socket } from 'node:net';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Unix socket of the server broker started by test/setup/global-setup.ts. */
    jitBroker: string;
  }
}

export interface BrokerClient {
  request<T = Record<string, unknown>>(op: string, args?: Record<string, unknown>): Promise<T>;
  close(): void;
}

export async function connectBroker(): Promise<BrokerClient> {
  const path = inject('jitBroker');
  if (!path) throw new Error('no server broker: test/setup/global-setup.ts did not run (run the tests with vitest from the repository root)');
  const sock: Socket = await new Promise((resolve, reject) => {
    const s = connect(path, () => resolve(s));
    s.once('error', reject);
  });
  const pending = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let buf = '';
  let closed = false;
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  sock.setEncoding('utf8');
  sock.on('error', (err) => failAll(err));
  sock.on('close', () => {
    if (!closed) failAll(new Error('the server broker went away'));
  });
  sock.on('data', (chunk: string) => {
    buf += chunk;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const reply = JSON.parse(buf.slice(0, nl)) as { id: number; ok: boolean; error?: string } & Record<string, unknown>;
      buf = buf.slice(nl + 1);
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.ok) p?.resolve(reply);
      else p?.reject(new Error(reply.error ?? 'broker request failed'));
    }
  });
  return {
    request: <T>(op: string, args: Record<string, unknown> = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = ++nextId;
        pending.set(id, { resolve: resolve as (v: Record<string, unknown>) => void, reject });
        sock.write(JSON.stringify({ id, op, ...args }) + '\n');
      }),
    close: () => {
      closed = true;
      sock.end();
    },
  };
}
