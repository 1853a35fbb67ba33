// Output of several sources interleaved on one stream, each line marked with where it came from
// (`[web/2] `). A line is written whole or not at all: what came without its newline waits for
// the rest, so that two sources never share a line. Bytes are split at '\n' only, which no
// UTF-8 character contains.
import { Writable } from 'node:stream';

const NEWLINE = 0x0a;

export class PrefixedLines extends Writable {
  private partial = Buffer.alloc(0);

  constructor(
    private readonly prefix: string,
    private readonly target: NodeJS.WritableStream,
  ) {
    super();
  }

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const bytes = Buffer.concat([this.partial, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding)]);
    const lastNewline = bytes.lastIndexOf(NEWLINE);
    this.partial = bytes.subarray(lastNewline + 1);
    if (lastNewline >= 0) this.target.write(prefixed(this.prefix, bytes.subarray(0, lastNewline + 1)));
    callback();
  }

  /** Writes what is left of an unfinished last line, with the newline it lacked. */
  flush(): void {
    if (this.partial.length === 0) return;
    this.target.write(prefixed(this.prefix, Buffer.concat([this.partial, Buffer.from('\n')])));
    this.partial = Buffer.alloc(0);
  }
}

/** `text` (whole lines, each ending in '\n') with `prefix` before each line. */
function prefixed(prefix: string, lines: Buffer): Buffer {
  const head = Buffer.from(prefix);
  const parts: Buffer[] = [];
  let start = 0;
  while (start < lines.length) {
    const end = lines.indexOf(NEWLINE, start) + 1;
    parts.push(head, lines.subarray(start, end));
    start = end;
  }
  return Buffer.concat(parts);
}

/** Collects what is written, for a block or a JSON document once the source has ended. */
export class Collected extends Writable {
  private readonly chunks: Buffer[] = [];

  override _write(chunk: Buffer | string, encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding));
    callback();
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}
