// Moving data between SSH channels (and processes) without losing any: with backpressure,
// half-closes kept (an EOF goes out only after everything before it), and no crash when
// the other side went away first.
import type { Readable, Writable } from 'node:stream';
import type { Channel } from 'ssh2';

const ended = (stream: Readable) => (stream.readableEnded ? Promise.resolve() : new Promise<void>((resolve) => stream.once('end', () => resolve())));

/**
 * Resolves once everything written to `stream` so far went out. An ssh2 channel holds data
 * back while the peer's window is full; an empty write completes after all of it.
 */
const flushed = (stream: Writable) => (stream.writableEnded ? Promise.resolve() : new Promise<void>((resolve) => stream.write(Buffer.alloc(0), () => resolve())));

/** Copies `from` into `to` (left open) and resolves once all of `from` went out. */
export async function copy(from: Readable, to: Writable): Promise<void> {
  // A peer that closes first ends `to` under us: writing on is pointless, not fatal.
  to.on('error', () => from.unpipe(to));
  from.pipe(to, { end: false });
  await ended(from);
  await flushed(to);
}

/** Relays a TCP-like channel pair both ways: data, each side's EOF, and close. */
export function relayBothWays(a: Channel, b: Channel): void {
  relayOneWay(a, b);
  relayOneWay(b, a);
}

/** `from`'s data, then its EOF, then its close (once its data went out) reach `to`. */
function relayOneWay(from: Channel, to: Channel): void {
  const copied = copy(from, to);
  void copied.then(() => to.eof());
  from.once('close', () => void copied.then(() => to.close()));
}
