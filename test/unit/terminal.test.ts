// Spinners: shown only where a person watches both outputs, and always cleaned up.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Terminal } from '../../src/io/terminal.js';

/** A stream that says it is (or is not) a terminal, with the cursor calls ora makes, and what was written. */
function fakeStream(isTTY: boolean): { stream: PassThrough & { isTTY: boolean }; written: () => string } {
  const stream = Object.assign(new PassThrough(), {
    isTTY,
    columns: 80,
    cursorTo: (x: number) => stream.write(`\x1b[${x + 1}G`),
    clearLine: () => stream.write('\x1b[2K'),
    moveCursor: () => true,
  });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, written: () => text };
}

function terminal(stdoutTTY: boolean, stderrTTY: boolean) {
  const stdout = fakeStream(stdoutTTY);
  const stderr = fakeStream(stderrTTY);
  return { term: new Terminal({ stdin: new PassThrough(), stdout: stdout.stream, stderr: stderr.stream }), stdout, stderr };
}

const slowly = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), 250));

describe('Terminal.spin', () => {
  it('spins on a terminal, then clears its line and shows the cursor again', async () => {
    const { term, stdout, stderr } = terminal(true, true);
    assert.equal(await term.spin('Creating a service key for demo-pg...', () => slowly(42)), 42);
    assert.match(stderr.written(), /Creating a service key for demo-pg\.\.\./);
    assert.ok(stderr.written().endsWith('\x1b[?25h'), 'the cursor is shown again');
    assert.equal(stdout.written(), '');
  });

  it('stays silent when stdout or stderr is not a terminal (pipes, files, --json)', async () => {
    for (const [out, err] of [
      [false, true],
      [true, false],
      [false, false],
    ] as const) {
      const { term, stdout, stderr } = terminal(out, err);
      assert.equal(await term.spin('Connecting...', () => slowly('done')), 'done');
      assert.equal(stderr.written() + stdout.written(), '', `stdout TTY ${out}, stderr TTY ${err}`);
    }
  });

  it('stops and passes on the failure when the work fails', async () => {
    const { term, stderr } = terminal(true, true);
    await assert.rejects(
      term.spin('Deleting the service key...', () => Promise.reject(new Error('broker said no'))),
      /broker said no/,
    );
    assert.ok(stderr.written().endsWith('\x1b[?25h'));
  });
});
