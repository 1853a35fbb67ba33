// The tunnel's retry pacing and its line between failures worth a retry and those that need a person.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isTransient, retryDelayMs } from '../../src/actions/tunnel.js';
import { CfApiError, NetworkError, RefreshTokenError, UserError } from '../../src/errors.js';
import { ConnectionLostError, NOT_AUTHORIZED } from '../../src/ssh/client.js';

describe('tunnel retries', () => {
  it('wait 1 s, doubling to at most 30 s, each spread by ±25 %', () => {
    const middle = () => 0.5;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 20].map((tries) => retryDelayMs(tries, middle)),
      [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000],
    );
    assert.equal(
      retryDelayMs(1, () => 0),
      750,
    );
    assert.equal(
      retryDelayMs(1, () => 1),
      1250,
    );
    assert.equal(
      retryDelayMs(3, () => 0.999),
      4998,
    );
    assert.equal(
      retryDelayMs(6, () => 1),
      30_000,
      'never past 30 s, jitter or not',
    );
  });

  it('retries the network, the proxy and a restarting instance; stops for what a person must mend', () => {
    const transient = [
      new ConnectionLostError('during the SSH handshake', 'reset'),
      new NetworkError('Cannot reach the SSH endpoint 127.0.0.1:2222: connection refused.'),
      new UserError('Error opening SSH connection: no SSH answer from 127.0.0.1:2222 within 16 s'),
      new UserError('Instance 0 of process web not running: it is STARTING.'),
      new CfApiError(502, [], '/v3/apps'),
    ];
    const permanent = [
      new UserError(NOT_AUTHORIZED),
      new RefreshTokenError(),
      new UserError("App 'gone' not found."),
      new CfApiError(403, [], '/v3/apps'),
      new UserError('Host key verification failed.'),
      new Error('a bug of ours'),
    ];
    for (const err of transient) assert.equal(isTransient(err), true, err.message);
    for (const err of permanent) assert.equal(isTransient(err), false, err.message);
  });
});
