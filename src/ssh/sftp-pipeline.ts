// Moving a file's bytes with many requests in flight, as ssh2's fastGet/fastPut do (one request
// at a time is bound by the round trip: mscdex/ssh2#215), but with writes issued in the file's
// order: an SFTP server applies a channel's requests in turn, so a transfer cut short leaves a
// whole prefix of the file behind, which --resume can check and continue.

export interface PipelineOptions {
  /** The byte to start at (an existing part's size on --resume) and the size to reach. */
  start: number;
  end: number;
  read: (position: number, length: number) => Promise<Buffer>;
  /** Called in the order of positions; may run while earlier writes are still in flight. */
  write: (data: Buffer, position: number) => Promise<void>;
  /** Bytes written, as each write completes. */
  onWritten: (bytes: number) => void;
  signal: AbortSignal;
}

/** 64 KiB requests (ssh2 splits them to the server's limits), 32 of each kind in flight: 2 MiB, ssh2's channel window. */
export const CHUNK_BYTES = 64 * 1024;
export const IN_FLIGHT = 32;

export async function pipeline(options: PipelineOptions): Promise<void> {
  const { start, end, signal } = options;
  const reads: { position: number; data: Promise<Buffer> }[] = [];
  const writes = new Set<Promise<void>>();
  let next = start;
  try {
    while (next < end || reads.length > 0) {
      signal.throwIfAborted();
      while (next < end && reads.length < IN_FLIGHT) {
        const length = Math.min(CHUNK_BYTES, end - next);
        const data = options.read(next, length);
        data.catch(() => undefined); // awaited in turn below
        reads.push({ position: next, data });
        next += length;
      }
      const { position, data } = reads.shift()!;
      const chunk = await data;
      while (writes.size >= IN_FLIGHT) await Promise.race(writes);
      const written: Promise<void> = options.write(chunk, position).then(() => {
        writes.delete(written);
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
