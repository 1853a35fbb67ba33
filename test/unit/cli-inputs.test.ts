// What the user typed or set that cannot work, each answered with one line naming it: a flag
// without its value, an instance index out of range, an SSH timing out of range. The CLI
// in-process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dialTimeoutMs, handshakeTimeoutMs, keepaliveMs, silentEndpointMessage } from '../../src/ssh/settings.js';
import { runCli, tempHome } from '../helpers/run-cli.js';

describe('inputs that cannot work', () => {
  it('a value flag given last without its value is named as typed, short, long or in a group', async () => {
    const cases: [string[], string][] = [
      [['ssh', 'demo-app', '-c'], '-c'],
      [['ssh', 'demo-app', '--command'], '--command'],
      [['ssh', 'demo-app', '-i'], '-i'],
      [['ssh', 'demo-app', '--app-instance-index'], '--app-instance-index'],
      [['ssh', 'demo-app', '-Tc'], '-c'],
      [['ssh', 'demo-app', '-L'], '-L'],
      [['ssh', 'demo-app', '--process'], '--process'],
      [['ssh-code', 'demo-app', '--openssh', '-i'], '-i'],
      [['connect-to-service', 'demo-app', 'db', '--local-port'], '--local-port'],
      [['login', '-u', 'me', '-a'], '-a'],
      [['target', '-s'], '-s'],
    ];
    for (const [args, flag] of cases) {
      const r = await runCli(tempHome(), args);
      const what = args.join(' ');
      assert.equal(r.code, 1, what);
      assert.equal(r.stderr, `Incorrect Usage: expected argument for flag \`${flag}'\n\n`, what);
      assert.match(r.stdout, new RegExp(`^NAME:\\n   ${args[0]} - `), what);
    }
  });

  it('an instance index beyond int32, where Diego keeps it, is a usage error naming the flag and the range', async () => {
    const outOfRange = "invalid argument for flag '--app-instance-index, -i': '%s' is out of range (0 to 2147483647)";
    const cases: [string[], string][] = [
      [['ssh', 'demo-app', '-i', '99999999999'], '99999999999'],
      [['ssh', 'demo-app', '--app-instance-index', '2147483648'], '2147483648'],
      [['ssh-code', 'demo-app', '--openssh', '-i', '123456789012345678901234567890'], '123456789012345678901234567890'],
      [['connect-to-service', 'demo-app', 'db', '-i', '4294967296'], '4294967296'],
    ];
    for (const [args, value] of cases) {
      const r = await runCli(tempHome(), args);
      const what = args.join(' ');
      assert.equal(r.code, 1, what);
      assert.equal(r.stderr, `Incorrect Usage: ${outOfRange.replace('%s', value)}\n`, what);
      assert.match(r.stdout, new RegExp(`^FAILED\\n\\nNAME:\\n   ${args[0]} - `), what);
    }
  });
});

describe('SSH timings from the environment', () => {
  it('default to a 6 s dial, 30 s keepalives and 16 s for a silent endpoint; an empty variable is unset', () => {
    assert.equal(dialTimeoutMs({}), 6000);
    assert.equal(keepaliveMs({}), 30_000);
    assert.equal(handshakeTimeoutMs({}), 16_000);
    assert.equal(dialTimeoutMs({ CF_DIAL_TIMEOUT: '' }), 6000);
    assert.equal(keepaliveMs({ CF_SSH_TOOLS_KEEPALIVE_SECONDS: ' ' }), 30_000);
  });

  it('take seconds within their range, fractions included', () => {
    assert.equal(dialTimeoutMs({ CF_DIAL_TIMEOUT: '1' }), 1000);
    assert.equal(dialTimeoutMs({ CF_DIAL_TIMEOUT: '2.5' }), 2500);
    assert.equal(dialTimeoutMs({ CF_DIAL_TIMEOUT: ' 20 ' }), 20_000);
    assert.equal(dialTimeoutMs({ CF_DIAL_TIMEOUT: '3600' }), 3_600_000);
    assert.equal(handshakeTimeoutMs({ CF_DIAL_TIMEOUT: '20' }), 30_000);
    assert.equal(keepaliveMs({ CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' }), 1000);
    assert.equal(keepaliveMs({ CF_SSH_TOOLS_KEEPALIVE_SECONDS: '86400' }), 86_400_000);
  });

  it('refuse anything else with one line naming the variable and its range', () => {
    const dial = ['abc', '0', '0.5', '-5', 'NaN', 'Infinity', '1e3', '0x10', '3601', '3000000', '5s'];
    for (const value of dial) {
      assert.throws(() => dialTimeoutMs({ CF_DIAL_TIMEOUT: value }), { name: 'UserError', message: `CF_DIAL_TIMEOUT must be a number of seconds from 1 to 3600, not '${value}'.` });
      assert.throws(() => handshakeTimeoutMs({ CF_DIAL_TIMEOUT: value }), { name: 'UserError' });
    }
    const keepalive = ['0', '0.001', '-1', 'soon', '86401', '2147484'];
    for (const value of keepalive) {
      assert.throws(() => keepaliveMs({ CF_SSH_TOOLS_KEEPALIVE_SECONDS: value }), {
        name: 'UserError',
        message: `CF_SSH_TOOLS_KEEPALIVE_SECONDS must be a number of seconds from 1 to 86400, not '${value}'.`,
      });
    }
  });

  it('a silent endpoint is told the one bound and both its parts', () => {
    assert.equal(
      silentEndpointMessage('ssh.example.com', 2222, {}),
      'Error opening SSH connection: no SSH answer from ssh.example.com:2222 within 16 s (CF_DIAL_TIMEOUT 6 s to connect + 10 s for the SSH handshake).',
    );
    assert.equal(
      silentEndpointMessage('::1', 2222, { CF_DIAL_TIMEOUT: '2.5' }),
      'Error opening SSH connection: no SSH answer from [::1]:2222 within 12.5 s (CF_DIAL_TIMEOUT 2.5 s to connect + 10 s for the SSH handshake).',
    );
  });
});
