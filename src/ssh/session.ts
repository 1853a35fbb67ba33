// A shell or a command on an SSH connection, wired to the local terminal: PTY with TERM and
// the window size, raw mode (always restored), resizes, stdin to the remote (EOF included),
// and how the remote process ended.
import type { Client, ClientChannel, PseudoTtyOptions } from 'ssh2';
import type { TerminalStreams } from '../io/terminal.js';

export interface SessionOptions {
  /** exec this; a shell when undefined. */
  command?: string;
  pty?: { term: string };
  streams: TerminalStreams;
}

/** How the remote process ended: its status, or the signal that ended it. */
export interface SessionEnd {
  code?: number;
  signal?: string;
}

function windowSize(streams: TerminalStreams): { rows: number; cols: number } {
  const out = streams.stdout as { columns?: number; rows?: number };
  return { rows: out.rows || 43, cols: out.columns || 80 };
}

/** A pseudo-terminal's type and size. */
export interface PtyRequest {
  term: string;
  rows: number;
  cols: number;
}

/** A session channel running `command`, or a shell when undefined; with a PTY when asked. */
export function openChannel(client: Client, command: string | undefined, pty: PtyRequest | undefined): Promise<ClientChannel> {
  const modes: PseudoTtyOptions | false = pty ? { ...pty, height: 0, width: 0, modes: { ECHO: 1, TTY_OP_ISPEED: 115200, TTY_OP_OSPEED: 115200 } } : false;
  return new Promise((resolve, reject) => {
    const done = (err: Error | undefined, channel: ClientChannel) => (err ? reject(err) : resolve(channel));
    if (command !== undefined) client.exec(command, { pty: modes }, done);
    else client.shell(modes, done);
  });
}

/** Runs until the remote process ends; `signal` (the run's stop, a lost connection among them) ends it early with its reason. */
export async function runSession(client: Client, options: SessionOptions, signal: AbortSignal): Promise<SessionEnd> {
  const { stdin, stdout, stderr } = options.streams;
  const channel = await openChannel(client, options.command, options.pty && { term: options.pty.term, ...windowSize(options.streams) });
  const raw = Boolean(options.pty && stdin.isTTY && stdin.setRawMode);
  let size = windowSize(options.streams);
  const onResize = () => {
    const next = windowSize(options.streams);
    if (next.rows === size.rows && next.cols === size.cols) return;
    size = next;
    channel.setWindow(size.rows, size.cols, 0, 0);
  };
  // Where the remote left the cursor: a session cut short leaves it after a prompt, say.
  let atLineStart = true;
  const track = (chunk: Buffer) => {
    if (chunk.length > 0) atLineStart = chunk[chunk.length - 1] === 0x0a;
  };
  try {
    if (raw) stdin.setRawMode!(true);
    if (options.pty) stdout.on('resize', onResize);
    channel.on('data', track);
    channel.stderr.on('data', track);
    channel.pipe(stdout, { end: false });
    channel.stderr.pipe(stderr, { end: false });
    stdin.pipe(channel);
    return await new Promise<SessionEnd>((resolve, reject) => {
      const end: SessionEnd = {};
      channel.on('exit', (code: number | null, exitSignal?: string) => {
        if (code !== null && code !== undefined) end.code = code;
        if (exitSignal) end.signal = exitSignal.replace(/^SIG/, '');
      });
      const stop = () => {
        channel.close();
        // On a terminal, what is said next (why the session ended, the local prompt) starts a line of its own.
        if (options.pty && stdout.isTTY && !atLineStart) stdout.write('\r\n');
        reject(signal.reason as Error);
      };
      if (signal.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      channel.once('close', () => {
        signal.removeEventListener('abort', stop);
        resolve(end);
      });
    });
  } finally {
    channel.unpipe(stdout);
    channel.stderr.unpipe(stderr);
    stdin.unpipe(channel);
    stdin.pause();
    if (raw) stdin.setRawMode!(false);
    stdout.removeListener('resize', onResize);
  }
}
