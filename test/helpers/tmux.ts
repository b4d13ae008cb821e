import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellQuote } from '../../src/core/shell-quote.js';
import { waitFor } from './jit-cli.js';

/** A program in a real terminal: tmux on a private server socket, driven with send-keys. */
export interface Term {
  send(...keys: string[]): void;
  type(text: string): void;
  screen(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<boolean>;
  kill(): void;
}

export function startInTmux(name: string, dir: string, env: NodeJS.ProcessEnv, command: string): Term {
  const sock = `jit-test-${process.pid}-${name}`;
  const script = join(dir, `${name}.sh`);
  const exports = Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `export ${k}=${shellQuote(String(v))}`)
    .join('\n');
  // The trailing echo/sleep keeps the pane so the exit code can be read from the screen. The trap
  // keeps this shell alive when Ctrl-C reaches the whole foreground group (a trap, unlike an
  // ignored signal, is not inherited by the program under test).
  writeFileSync(script, `${exports}\ntrap : INT\ncd ${shellQuote(dir)}\n${command}\necho "EXIT=$?"\nsleep 60\n`, { mode: 0o700 });
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', sock, ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-s', name, '-x', '200', '-y', '50', `sh ${shellQuote(script)}`);
  const screen = () => {
    try {
      return tmux('capture-pane', '-p', '-t', name, '-S', '-200');
    } catch {
      return '';
    }
  };
  return {
    send: (...keys) => void tmux('send-keys', '-t', name, ...keys),
    // tmux reads an argument ending in ';' as its own command separator: send that key as hex.
    type: (text) => {
      const body = text.replace(/;$/, '');
      if (body) tmux('send-keys', '-t', name, '-l', '--', body);
      if (body !== text) tmux('send-keys', '-t', name, '-H', '3b');
    },
    screen,
    waitFor: (re, timeoutMs = 15_000) => waitFor(() => re.test(screen()), timeoutMs, 100),
    kill: () => {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
    },
  };
}
