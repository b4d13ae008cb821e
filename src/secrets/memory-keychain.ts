import type { Keychain } from './keychain.js';

/** A Keychain held in a Map, for unit tests of commands; `failure` makes every call reject (e.g. a locked store). */
export class MemoryKeychain implements Keychain {
  readonly backend: string;
  readonly entries: Map<string, string>;
  failure: Error | undefined;

  constructor(entries: Record<string, string> = {}, backend = 'memory') {
    this.entries = new Map(Object.entries(entries));
    this.backend = backend;
  }

  async get(account: string): Promise<string | null> {
    this.check();
    return this.entries.get(account) ?? null;
  }

  async set(account: string, secret: string): Promise<void> {
    this.check();
    this.entries.set(account, secret);
  }

  async delete(account: string): Promise<boolean> {
    this.check();
    return this.entries.delete(account);
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}
