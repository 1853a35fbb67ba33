// A shell or a command on an SSH connection, wired to the local terminal: PTY with TERM and
// the window size, raw mode (always restored), resizes, stdin to the remote (EOF included),
// and how the remote process ended.
import { constants } from 'node:os';
import type { Client, ClientChannel, PseudoTtyOptions } from 'ssh2';
import type { TerminalStreams } from '../io/terminal.js';
import { ConnectionLostError } from './client.js';

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

/** 128 + the signal's number, as shells report a process killed by a signal. */
export function signalExitCode(signal: string): number {
  const number = constants.signals[`SIG${signal.replace(/^SIG/, '')}` as keyof typeof constants.signals];
  return 128 + (number ?? 0);
}

function windowSize(streams: TerminalStreams): { rows: number; cols: number } {
  const out = streams.stdout as { columns?: number; rows?: number };
  return { rows: out.rows || 43, cols: out.columns || 80 };
}

function openChannel(client: Client, options: SessionOptions): Promise<ClientChannel> {
  const pty: PseudoTtyOptions | false = options.pty
    ? { ...windowSize(options.streams), height: 0, width: 0, term: options.pty.term, modes: { ECHO: 1, TTY_OP_ISPEED: 115200, TTY_OP_OSPEED: 115200 } }
    : false;
  return new Promise((resolve, reject) => {
    const done = (err: Error | undefined, channel: ClientChannel) => (err ? reject(err) : resolve(channel));
    if (options.command !== undefined) client.exec(options.command, { pty }, done);
    else client.shell(pty, done);
  });
}

export async function runSession(client: Client, options: SessionOptions): Promise<SessionEnd> {
  const { stdin, stdout, stderr } = options.streams;
  const channel = await openChannel(client, options);
  const raw = Boolean(options.pty && stdin.isTTY && stdin.setRawMode);
  let size = windowSize(options.streams);
  const onResize = () => {
    const next = windowSize(options.streams);
    if (next.rows === size.rows && next.cols === size.cols) return;
    size = next;
    channel.setWindow(size.rows, size.cols, 0, 0);
  };
  try {
    if (raw) stdin.setRawMode!(true);
    if (options.pty) stdout.on('resize', onResize);
    channel.pipe(stdout, { end: false });
    channel.stderr.pipe(stderr, { end: false });
    stdin.pipe(channel);
    return await new Promise<SessionEnd>((resolve, reject) => {
      const end: SessionEnd = {};
      channel.on('exit', (code: number | null, signal?: string) => {
        if (code !== null && code !== undefined) end.code = code;
        if (signal) end.signal = signal.replace(/^SIG/, '');
      });
      channel.once('close', () => resolve(end));
      client.once('close', () => reject(new ConnectionLostError('the connection closed')));
      client.once('error', (err) => reject(new ConnectionLostError(err.message)));
    });
  } finally {
    stdin.unpipe(channel);
    stdin.pause();
    if (raw) stdin.setRawMode!(false);
    stdout.removeListener('resize', onResize);
  }
}
