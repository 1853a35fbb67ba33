// Time-boxed SSH (enable-ssh --for/--reason, disable-ssh --expired, ssh-enabled's grant) and
// the rolling restart (enable-ssh --restart rolling): the grant's rules on their own, then the
// CLI and the foundation in-process, the clock given to each run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXPIRES_AT_ANNOTATION, grantDuration, MAX_GRANT_MS, REASON_ANNOTATION, sshGrantOf } from '../../src/actions/ssh-grant.js';
import type { App } from '../../src/cf/cloud-controller.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { expectRequests } from '../helpers/expect-requests.js';
import { loggedIn, runCli } from '../helpers/run-cli.js';

const HOUR = 3600_000;
const appWith = (annotations?: Record<string, unknown>): App => ({ guid: 'g', name: 'demo-app', state: 'STARTED', metadata: { annotations } });

describe('a grant on its own', () => {
  it('durations: m, h, d and their sums, from a minute to 30 days', () => {
    assert.equal(grantDuration('30m'), 30 * 60_000);
    assert.equal(grantDuration('2h'), 2 * HOUR);
    assert.equal(grantDuration('1d12h'), 36 * HOUR);
    assert.equal(grantDuration('30d'), MAX_GRANT_MS);
    for (const [text, why] of [
      ['2', /is not a duration/],
      ['2x', /is not a duration/],
      ['1.5h', /is not a duration/],
      ['-1h', /is not a duration/],
      ['', /is not a duration/],
      ['h', /is not a duration/],
      ['0m', /is no time at all/],
      ['30d1m', /longer than 30 days/],
      ['99999999999999999999d', /longer than 30 days/],
    ] as const) {
      assert.throws(() => grantDuration(text), { name: 'UsageError', message: why }, text);
    }
  });

  it('sshGrantOf reads the annotations: none, running, expired from its very second, unreadable', () => {
    const at = Date.parse('2026-12-01T13:00:00Z');
    assert.equal(sshGrantOf(appWith(), at), undefined);
    assert.equal(sshGrantOf({ guid: 'g', name: 'a', state: 'STARTED' }, at), undefined);
    // A reason alone is no grant: nothing writes one without an expiry.
    assert.equal(sshGrantOf(appWith({ [REASON_ANNOTATION]: 'INC-1' }), at), undefined);
    const granted = appWith({ [EXPIRES_AT_ANNOTATION]: '2026-12-01T13:00:00Z', [REASON_ANNOTATION]: 'INC-1234' });
    assert.deepEqual(sshGrantOf(granted, at - 1), { expiresAt: new Date(at), reason: 'INC-1234', expired: false });
    assert.deepEqual(sshGrantOf(granted, at), { expiresAt: new Date(at), reason: 'INC-1234', expired: true });
    // Anything but a UTC time counts as expired, so that enforcement ends it rather than leaving it on for good.
    for (const unreadable of ['2026-12-01T13:00:00', '2026-12-01 13:00', 'tomorrow', '2026-13-45T99:00:00Z']) {
      assert.deepEqual(sshGrantOf(appWith({ [EXPIRES_AT_ANNOTATION]: unreadable }), at), { expiresAt: undefined, reason: undefined, expired: true }, unreadable);
    }
  });
});

describe('time-boxed SSH through the CLI', () => {
  let foundation: Foundation;
  let developer: string;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
    developer = await loggedIn(foundation.url, 'developer');
  });
  after(() => foundation.stop());

  it('refuses what does not fit before sending anything', async () => {
    const usage = (message: string) => `Incorrect Usage: ${message}\n`;
    for (const [args, message] of [
      [['enable-ssh', 'demo-app', '--for', '2x'], "--for '2x' is not a duration: give a whole number with m, h or d, such as 30m, 2h or 1d12h."],
      [['enable-ssh', 'demo-app', '--for', '0h'], "--for '0h' is no time at all: give at least 1m."],
      [['enable-ssh', 'demo-app', '--for', '31d'], "--for '31d' is longer than 30 days, the most a time-boxed grant may run."],
      [['enable-ssh', 'demo-app', '--reason', 'INC-1'], '--reason goes with --for: it is kept beside the expiry of a time-boxed grant.'],
      [['enable-ssh', 'demo-app', '--for', '1h', '--reason', '  '], '--reason is empty: say why SSH is needed (an incident or ticket number, say).'],
      [['enable-ssh', 'demo-app', '--restart', 'blue-green'], "--restart 'blue-green' is no strategy cf-ssh-tools knows: use --restart rolling."],
      [['disable-ssh'], 'the required argument `APP_NAME` was not provided'],
      [['disable-ssh', 'demo-app', '--expired'], '--expired looks at every app of the targeted space: give it no APP_NAME.'],
      [['disable-ssh', 'demo-app', '--dry-run'], '--dry-run goes with --expired.'],
    ] as const) {
      const r = await expectRequests(foundation, [], () => runCli(developer, [...args]));
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stderr, usage(message), args.join(' '));
      assert.match(r.stdout, /^FAILED\n\nNAME:\n/, args.join(' '));
    }
    assert.equal(foundation.world.apps.find((a) => a.name === 'demo-app')?.sshEnabled, true);
  });
});
