import { describe, expect, it } from 'vitest';
import { cancelOnSignals, unlessAborted } from './cancel.js';
import { JitError } from './errors.js';

describe('cancelOnSignals', () => {
  it('aborts at the first signal with its name, absorbs the next ones, and puts the handlers back on close', () => {
    const before = ['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s));
    const scope = cancelOnSignals();
    expect(scope.signal.aborted).toBe(false);
    process.emit('SIGTERM', 'SIGTERM');
    expect(scope.signal.aborted).toBe(true);
    expect(scope.signal.reason).toBe('SIGTERM');
    process.emit('SIGINT', 'SIGINT');
    expect(scope.signal.reason).toBe('SIGTERM');
    scope.close();
    scope.close();
    expect(['SIGINT', 'SIGTERM', 'SIGHUP'].map((s) => process.listenerCount(s))).toEqual(before);
  });
});

describe('unlessAborted', () => {
  it('passes the result through while not aborted', async () => {
    const c = new AbortController();
    await expect(unlessAborted(Promise.resolve(7), c.signal)).resolves.toBe(7);
    await expect(unlessAborted(Promise.reject(new Error('boom')), c.signal)).rejects.toThrow('boom');
  });

  it('rejects as cancelled (exit 130) at the abort, and hands a late result to `late`', async () => {
    const c = new AbortController();
    let finish!: (v: string) => void;
    const work = new Promise<string>((r) => (finish = r));
    const late: string[] = [];
    const p = unlessAborted(work, c.signal, (v) => late.push(v));
    c.abort('SIGINT');
    const err = (await p.catch((e: unknown) => e)) as JitError;
    expect(err).toBeInstanceOf(JitError);
    expect(err.exitCode).toBe(130);
    finish('connection');
    await work;
    await Promise.resolve();
    expect(late).toEqual(['connection']);
  });

  it('is cancelled at once when the signal was already aborted', async () => {
    const c = new AbortController();
    c.abort('SIGHUP');
    const late: number[] = [];
    await expect(unlessAborted(Promise.resolve(1), c.signal, (v) => late.push(v))).rejects.toMatchObject({ exitCode: 130 });
    await Promise.resolve();
    expect(late).toEqual([1]);
  });
});
