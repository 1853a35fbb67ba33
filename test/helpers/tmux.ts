// A real terminal for interactive tests: tmux runs a shell in a pane of a given size; tests
// type with send-keys and read the screen with capture-pane.
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

export class TmuxPane {
  private constructor(readonly session: string) {}

  /** A detached session running bash with `env`, `cols` x `rows` characters. */
  static start(name: string, env: Record<string, string>, cols = 100, rows = 30): TmuxPane {
    const session = `${name}-${process.pid}-${Date.now()}`;
    const exports = Object.entries(env).map(([k, v]) => `${k}=${v}`);
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', String(cols), '-y', String(rows), 'env', '-i', ...exports, 'bash', '--norc', '--noprofile']);
    execFileSync('tmux', ['set-option', '-t', session, 'window-size', 'manual']);
    execFileSync('tmux', ['set-option', '-t', session, 'status', 'off']);
    return new TmuxPane(session);
  }

  type(text: string, enter = true): void {
    // tmux takes a trailing ";" for a command separator unless it is escaped.
    execFileSync('tmux', ['send-keys', '-t', this.session, '-l', text.endsWith(';') ? `${text.slice(0, -1)}\\;` : text]);
    if (enter) execFileSync('tmux', ['send-keys', '-t', this.session, 'Enter']);
  }

  keys(...keys: string[]): void {
    execFileSync('tmux', ['send-keys', '-t', this.session, ...keys]);
  }

  screen(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-t', this.session, '-S', '-200']).toString();
  }

  resize(cols: number, rows: number): void {
    execFileSync('tmux', ['resize-window', '-t', this.session, '-x', String(cols), '-y', String(rows)]);
  }

  /** Waits until the screen matches, or fails with what it shows. */
  async waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.screen().match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`the terminal never showed ${pattern}; it shows:\n${this.screen()}`);
      await sleep(100);
    }
  }

  stop(): void {
    try {
      execFileSync('tmux', ['kill-session', '-t', this.session], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
