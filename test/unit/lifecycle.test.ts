// The one connection lifecycle (src/actions/lifecycle.ts): the cleanup stack, the stop signal,
// and many lifecycles in one process, each stopped by the process's stops.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Lifecycle, withLifecycle } from '../../src/actions/lifecycle.js';
import { type Context, createContext } from '../../src/context.js';
import { StoppedError, UserError } from '../../src/errors.js';
import { TestSignals } from '../helpers/run-cli.js';

function testContext(signals: TestSignals, launchedByCf = false): Context {
  const streams = { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
  const ctx = createContext({ streams, env: {}, onStop: signals.subscribe, self: [] });
  return { ...ctx, launchedByCf };
}

function reporter() {
  const notices: string[] = [];
  return { notices, notice: (message: string) => void notices.push(message), spin: <T>(_text: string, work: () => Promise<T>) => work() };
}

const never = new Promise<never>(() => undefined);

describe('the connection lifecycle', () => {
  it('undoes what was made, last made first, on a normal end, and stops listening', async () => {
    const signals = new TestSignals();
    const undone: string[] = [];
    const result = await withLifecycle(testContext(signals), reporter(), async (life) => {
      life.defer('a', () => undone.push('a'));
      life.defer('b', async () => void undone.push('b'));
      assert.equal(signals.subscribed, 1);
      return 7;
    });
    assert.equal(result, 7);
    assert.deepEqual(undone, ['b', 'a']);
    assert.equal(signals.subscribed, 0);
  });

  it('a cleanup that fails is reported, and the rest still run; the body’s error is what the caller gets', async () => {
    const signals = new TestSignals();
    const report = reporter();
    const undone: string[] = [];
    await assert.rejects(
      withLifecycle(testContext(signals), report, async (life) => {
        life.defer('the first thing', () => undone.push('first'));
        life.defer('the service key k', () => {
          throw new UserError('the broker said no.');
        });
        throw new UserError('the body failed');
      }),
      /the body failed/,
    );
    assert.deepEqual(undone, ['first']);
    assert.deepEqual(report.notices, ['Could not clean up the service key k: the broker said no.']);
  });

  it('a stop signal ends every wait at once, and the stop (not what the interrupted work threw) is the result', async () => {
    const signals = new TestSignals();
    const undone: string[] = [];
    const run = withLifecycle(testContext(signals), reporter(), async (life) => {
      life.defer('the tunnel', () => undone.push('tunnel'));
      // What a channel closed under the work would throw.
      await life.until(never).catch(() => {
        throw new Error('channel closed');
      });
    });
    assert.equal(signals.send('SIGTERM'), 1);
    await assert.rejects(run, (err) => err instanceof StoppedError && err.signal === 'SIGTERM' && err.exitCode === 143);
    assert.deepEqual(undone, ['tunnel']);
  });

  it('stdout closed by its reader stops a run quietly with 141', async () => {
    const signals = new TestSignals();
    const run = withLifecycle(testContext(signals), reporter(), (life) => life.stopped());
    signals.closeOutput();
    await assert.rejects(run, (err) => err instanceof StoppedError && err.exitCode === 141 && err.message === '');
  });

  it('many runs in one process: one signal stops each of them, each cleans up its own', async () => {
    const signals = new TestSignals();
    const ctx = testContext(signals);
    const undone: number[] = [];
    const runs = [1, 2, 3].map((n) =>
      withLifecycle(ctx, reporter(), async (life) => {
        life.defer(`run ${n}`, () => undone.push(n));
        return life.stopped();
      }).catch((err: unknown) => err),
    );
    assert.equal(signals.send('SIGHUP'), 3);
    for (const err of await Promise.all(runs)) assert.ok(err instanceof StoppedError && err.signal === 'SIGHUP');
    assert.deepEqual(
      undone.sort((a, b) => a - b),
      [1, 2, 3],
    );
    assert.equal(signals.subscribed, 0);
  });

  it('Ctrl-C handed to a program: ignored standalone (the program has it), a stop under cf', async () => {
    for (const launchedByCf of [false, true]) {
      const signals = new TestSignals();
      const life = new Lifecycle(testContext(signals, launchedByCf), reporter());
      const giveBack = life.handCtrlCToProgram();
      signals.send('SIGINT');
      assert.equal(life.signal.aborted, launchedByCf, launchedByCf ? 'under cf' : 'standalone');
      giveBack();
      signals.send('SIGINT');
      assert.equal(life.signal.aborted, true);
      await life.teardown();
    }
  });

  it('something made after the teardown is undone at once', async () => {
    const life = new Lifecycle(testContext(new TestSignals()), reporter());
    await life.teardown();
    const undone: string[] = [];
    life.defer('late', () => undone.push('late'));
    await Promise.resolve();
    assert.deepEqual(undone, ['late']);
  });
});
