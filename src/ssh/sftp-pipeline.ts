// Moving a file's bytes with many requests in flight, as ssh2's fastGet/fastPut do (one request
// at a time is bound by the round trip: mscdex/ssh2#215), but with writes issued in the file's
// order: an SFTP server applies a channel's requests in turn, so a transfer cut short leaves a
// whole prefix of the file behind, which --resume can check and continue.

export interface PipelineOptions {
  /** The byte to start at (an existing part's size on --resume) and the size to reach. */
  start: number;
  end: number;
  /** The largest request both ends take in one piece (see requestBytes). */
  requestBytes: number;
  /** Fills `into` (its whole length) from `position`. */
  read: (position: number, into: Buffer) => Promise<void>;
  /** Called in the order of positions; may run while earlier writes are still in flight. */
  write: (data: Buffer, position: number) => Promise<void>;
  /** Bytes written, as each write completes. */
  onWritten: (bytes: number) => void;
  signal: AbortSignal;
}

/**
 * Requests as large as both ends take (256 KiB less headers from OpenSSH's sftp-server: ssh2
 * splits a larger one into requests made one after another), and 4 MiB of each kind in flight:
 * measured with bench/copy.mjs, 64 KiB × 32 moved half of what OpenSSH's sftp does, and more
 * in flight gained nothing.
 */
export const LARGEST_REQUEST_BYTES = 256 * 1024;
export const IN_FLIGHT_BYTES = 4 * 1024 * 1024;

export async function pipeline(options: PipelineOptions): Promise<void> {
  const { start, end, signal } = options;
  const requestBytes = Math.min(options.requestBytes, LARGEST_REQUEST_BYTES);
  const inFlight = Math.max(1, Math.floor(IN_FLIGHT_BYTES / requestBytes));
  const reads: { position: number; buffer: Buffer; data: Promise<void> }[] = [];
  const writes = new Set<Promise<void>>();
  // Each buffer goes back once its write is done: a gigabyte copied allocates a few megabytes,
  // not a gigabyte of buffers that the garbage collector must then sweep (a third of the CPU).
  const free: Buffer[] = [];
  let next = start;
  try {
    while (next < end || reads.length > 0) {
      signal.throwIfAborted();
      while (next < end && reads.length < inFlight) {
        const length = Math.min(requestBytes, end - next);
        const buffer = free.pop() ?? Buffer.allocUnsafeSlow(requestBytes);
        const data = options.read(next, buffer.subarray(0, length));
        data.catch(() => undefined); // awaited in turn below
        reads.push({ position: next, buffer, data });
        next += length;
      }
      const { position, buffer, data } = reads.shift()!;
      await data;
      const chunk = buffer.subarray(0, Math.min(requestBytes, end - position));
      while (writes.size >= inFlight) await Promise.race(writes);
      const written: Promise<void> = options.write(chunk, position).then(() => {
        writes.delete(written);
        free.push(buffer);
        options.onWritten(chunk.length);
      });
      written.catch(() => undefined); // raced or awaited below
      writes.add(written);
    }
    await Promise.all(writes);
  } finally {
    // Nothing may still touch the files once their handles close.
    await Promise.allSettled([...reads.map((r) => r.data), ...writes]);
  }
}
