// The terminal a command talks to: output streams, TTY facts, prompts and spinners.
// Spinners and prompts go to stderr so stdout stays clean for scripts. What goes through out,
// err, prompts and spinners is made safe to show (safe-text.ts): messages carry names, errors
// and warnings that servers chose. A remote session's bytes go to the streams themselves.
import readline from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { UserError } from '../errors.js';
import { safeText } from './safe-text.js';

export interface TerminalStreams {
  stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
}

export class Terminal {
  private lines?: LineQueue;

  constructor(readonly streams: TerminalStreams) {}

  get stdinIsTTY(): boolean {
    return Boolean(this.streams.stdin.isTTY);
  }

  get stdoutIsTTY(): boolean {
    return Boolean(this.streams.stdout.isTTY);
  }

  out(text = ''): void {
    this.streams.stdout.write(`${safeText(text)}\n`);
  }

  /** cf's OK: always followed by an empty line. */
  ok(): void {
    this.out('OK');
    this.out();
  }

  err(text = ''): void {
    this.streams.stderr.write(`${safeText(text)}\n`);
  }

  /** err as a value: what commands hand to actions for warnings and notices. */
  readonly notice = (text: string): void => this.err(text);

  /**
   * A spinner on stderr while `work` runs, for waits a person notices (a broker making a service
   * key, the first SSH connection). Only when both stdout and stderr are terminals: piped or
   * redirected output, and --json, never carry one.
   */
  async spin<T>(text: string, work: () => Promise<T>): Promise<T> {
    if (!this.streams.stderr.isTTY || !this.stdoutIsTTY) return work();
    const { default: ora } = await import('ora');
    // discardStdin off: what the user types ahead belongs to the shell that follows, and raw mode is ours to manage.
    // isEnabled: we decided above; left to itself ora would read the process's own CI variable and TTY.
    const spinner = ora({ text: safeText(text), stream: this.streams.stderr, discardStdin: false, isEnabled: true }).start();
    try {
      return await work();
    } finally {
      spinner.stop();
    }
  }

  /** Asks on stderr and reads one line; `secret` hides what is typed on a terminal. */
  async prompt(question: string, options: { secret?: boolean } = {}): Promise<string> {
    this.streams.stderr.write(safeText(question));
    if (!this.stdinIsTTY) {
      this.lines ??= new LineQueue(this.streams.stdin);
      const line = await this.lines.next();
      if (line === undefined) {
        this.streams.stderr.write('\n');
        throw new UserError('No input to answer the prompt: give the value as a flag instead.');
      }
      return line;
    }
    return options.secret ? this.readHidden() : this.readVisible();
  }

  private readVisible(): Promise<string> {
    const rl = readline.createInterface({ input: this.streams.stdin, terminal: false });
    return new Promise((resolve, reject) => {
      rl.once('line', (line) => {
        resolve(line); // before close(), whose 'close' event would reject first
        rl.close();
      });
      rl.once('close', () => reject(new UserError('No input to answer the prompt.')));
    });
  }

  private readHidden(): Promise<string> {
    const { stdin, stderr } = this.streams;
    return new Promise((resolve, reject) => {
      let typed = '';
      const finish = (error?: Error) => {
        stdin.removeListener('data', onData);
        stdin.setRawMode?.(false);
        stdin.pause();
        stderr.write('\n');
        if (error) reject(error);
        else resolve(typed);
      };
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return finish();
          if (ch === '\u0003') return finish(new UserError('Cancelled.', 130));
          if (ch === '\u0004') return finish();
          if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
          else typed += ch;
        }
      };
      stdin.setRawMode?.(true);
      stdin.resume();
      stdin.on('data', onData);
    });
  }
}

/** Lines of a non-terminal stdin, handed out one per prompt. */
class LineQueue {
  private readonly buffered: string[] = [];
  private readonly waiting: ((line: string | undefined) => void)[] = [];
  private closed = false;

  constructor(input: Readable) {
    const rl = readline.createInterface({ input, terminal: false });
    rl.on('line', (line) => {
      const waiter = this.waiting.shift();
      if (waiter) waiter(line);
      else this.buffered.push(line);
    });
    rl.on('close', () => {
      this.closed = true;
      for (const waiter of this.waiting.splice(0)) waiter(undefined);
    });
  }

  next(): Promise<string | undefined> {
    if (this.buffered.length > 0) return Promise.resolve(this.buffered.shift());
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}
