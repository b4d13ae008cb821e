/** The OS credential store, behind an interface so tests can use a real Secret Service or a memory map. */
export interface Keychain {
  /** Human name of the backend, shown by `jit doctor` (e.g. "Secret Service"). */
  readonly backend: string;
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  /** True when something was deleted. */
  delete(account: string): Promise<boolean>;
}

export const KEYCHAIN_SERVICE = 'jit';
