// The test helpers that other tests lean on: a helper that never fails would make them pass
// for nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecordedRequest } from '../foundation/server.js';
import { assertRequests, expectRequests } from '../helpers/expect-requests.js';
import { startFoundationProcess } from '../helpers/foundation.js';
import type { StopReason } from '../../src/context.js';
import { runCli, startCli, tempHome, TestSignals } from '../helpers/run-cli.js';
import { SpawnStubs } from '../helpers/spawn-stubs.js';

const request = (line: string): RecordedRequest => {
  const [method = '', url = ''] = line.split(' ');
  const at = url.indexOf('?');
  return { method, path: at < 0 ? url : url.slice(0, at), query: at < 0 ? '' : url.slice(at) };
};
const made = (...lines: string[]) => lines.map(request);

describe('expectRequests', () => {
  const guid = '0b8a3c52-86f6-4a2e-9f4f-3bd2c7d1e0aa';

  it('passes on exactly the expected requests, in any order, with :placeholders', () => {
    assertRequests(made(`PATCH /v3/apps/${guid}/features/ssh`, `GET /v3/apps?space_guids=${guid}&names=a`), [
      'GET /v3/apps?names=a&space_guids=:space',
      'PATCH /v3/apps/:guid/features/ssh',
    ]);
    // Without a query in the expectation, the query is not looked at.
    assertRequests(made('GET /v3/spaces?names=x&order_by=name'), ['GET /v3/spaces']);
  });

  it('fails on an extra request, a missing one, a request made twice and a different query', () => {
    const fails = (requests: RecordedRequest[], expected: string[], pattern: RegExp) =>
      assert.throws(
        () => assertRequests(requests, expected),
        (err: Error) => pattern.test(err.message),
      );
    fails(made('GET /v3/apps', `PATCH /v3/apps/${guid}/features/ssh`), ['GET /v3/apps'], /Made, not expected:\n {2}PATCH \/v3\/apps\/[\w-]+\/features\/ssh/);
    fails(made('GET /v3/apps'), ['GET /v3/apps', 'PATCH /v3/apps/:guid/features/ssh'], /Expected, not made:\n {2}PATCH \/v3\/apps\/:guid\/features\/ssh/);
    fails(made('GET /v3/apps', 'GET /v3/apps'), ['GET /v3/apps'], /Made, not expected:\n {2}GET \/v3\/apps/);
    fails(made('GET /v3/apps?names=a&extra=1'), ['GET /v3/apps?names=a'], /Made, not expected/);
    fails(made('GET /v3/apps?names=b'), ['GET /v3/apps?names=a'], /Made, not expected/);
    fails(made('POST /v3/apps'), ['GET /v3/apps'], /Made, not expected/);
  });

  it('gives a literal expectation the request only it matches, whatever the order', () => {
    assertRequests(made(`GET /v3/apps/${guid}`, 'GET /v3/apps/literal'), ['GET /v3/apps/:guid', 'GET /v3/apps/literal']);
    assertRequests(made('GET /v3/apps/literal', `GET /v3/apps/${guid}`), ['GET /v3/apps/:guid', 'GET /v3/apps/literal']);
  });

  it('looks only at the requests made while its function ran', async () => {
    const foundation = { requests: made('GET /before') };
    const result = await expectRequests(foundation, ['GET /during'], async () => {
      foundation.requests.push(request('GET /during'));
      return 42;
    });
    assert.equal(result, 42);
  });
});

describe('runCli and the spawn stubs', () => {
  it('collects both outputs and the exit code', async () => {
    const r = await runCli(tempHome(), ['login', '-a', 'ftp://x', '-u', 'u', '-p', 'p']);
    assert.deepEqual(r, { code: 1, stdout: 'FAILED\n', stderr: "'ftp://x' is not an http(s) URL: use e.g. -a https://api.example.com\n" });
  });

  it('waitFor rejects when the run ends before its output matches', async () => {
    const run = startCli(tempHome(), ['--version']);
    await assert.rejects(run.waitFor('stdout', /never printed/), /the run ended before its stdout showed/);
    assert.equal((await run.result).code, 0);
  });

  it('TestSignals counts subscriptions and delivers to each', () => {
    const signals = new TestSignals();
    const got: string[] = [];
    const named = (r: StopReason) => (r.kind === 'signal' ? r.signal : r.kind);
    const off = signals.subscribe((r) => got.push(`a:${named(r)}`));
    signals.subscribe((r) => got.push(`b:${named(r)}`))();
    assert.equal(signals.subscribed, 1);
    assert.equal(signals.send('SIGTERM'), 1);
    assert.equal(signals.closeOutput(), 1);
    off();
    assert.equal(signals.send('SIGINT'), 0);
    assert.deepEqual(got, ['a:SIGTERM', 'a:output-closed']);
  });

  it('a stub is used once, by base name or by path, and verify reports what its handler threw', async () => {
    const stubs = new SpawnStubs()
      .register('psql', () => 0)
      .register('/opt/tool', () => {
        throw new Error('the handler saw something wrong');
      });
    stubs.streams = { stdout: process.stdout, stderr: process.stderr };
    const exitOf = (child: ReturnType<SpawnStubs['spawn']>) =>
      new Promise<number | Error>((resolve) => {
        child.once('exit', (code: number) => resolve(code));
        child.once('error', (err: Error) => resolve(err));
      });
    assert.equal(await exitOf(stubs.spawn('/usr/bin/psql', ['-c', 'x'])), 0);
    const again = await exitOf(stubs.spawn('/usr/bin/psql', []));
    assert.ok(again instanceof Error && /no stub registered/.test(again.message), 'a second start needs a second registration');
    const thrown = await exitOf(stubs.spawn('/opt/tool', []));
    assert.ok(thrown instanceof Error && /the handler saw something wrong/.test(thrown.message));
    assert.deepEqual(
      stubs.calls.map((c) => [c.executable, c.args]),
      [
        ['/usr/bin/psql', ['-c', 'x']],
        ['/usr/bin/psql', []],
        ['/opt/tool', []],
      ],
    );
    assert.throws(() => stubs.verify(), /the handler saw something wrong/);
  });
});

describe('startFoundationProcess', () => {
  it('stop() returns for a foundation that a signal already ended (its exit event has passed)', async () => {
    const foundation = await startFoundationProcess(['--no-ssh', '--no-databases']);
    const ended = new Promise((resolve) => foundation.process.once('exit', resolve));
    foundation.process.kill('SIGKILL');
    await ended;
    await foundation.stop();
    assert.equal(foundation.process.signalCode, 'SIGKILL');
  });
});
