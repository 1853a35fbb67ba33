// What the user typed or set that cannot work, each answered with one line naming it: a flag
// without its value, an instance index out of range, an SSH timing out of range, a wrong
// choice in the instance picker, a HOME, CF_HOME, CF_SSH_TOOLS_HOME, TMPDIR or CF_TRACE we
// cannot write to. The CLI and the foundation in-process.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { App, InstanceStats, Process } from '../../src/cf/cloud-controller.js';
import { chooseInstance } from '../../src/commands/instance-picker.js';
import { CfConfigStore, cfConfigFolder } from '../../src/config/cf-config.js';
import { makePrivateTempDir } from '../../src/config/dirs.js';
import { emptyLogin } from '../../src/config/login.js';
import { createContext } from '../../src/context.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
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

  it('take whole seconds within their range', () => {
    assert.equal(dialTimeoutMs({ CF_DIAL_TIMEOUT: '1' }), 1000);
    assert.equal(dialTimeoutMs({ CF_DIAL_TIMEOUT: ' 20 ' }), 20_000);
    assert.equal(dialTimeoutMs({ CF_DIAL_TIMEOUT: '3600' }), 3_600_000);
    assert.equal(handshakeTimeoutMs({ CF_DIAL_TIMEOUT: '20' }), 30_000);
    assert.equal(keepaliveMs({ CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' }), 1000);
    assert.equal(keepaliveMs({ CF_SSH_TOOLS_KEEPALIVE_SECONDS: '86400' }), 86_400_000);
  });

  it('refuse anything else with one line naming the variable and its range', () => {
    const dial = ['abc', '0', '0.5', '2.5', '-5', 'NaN', 'Infinity', '1e3', '0x10', '3601', '3000000', '5s'];
    for (const value of dial) {
      assert.throws(() => dialTimeoutMs({ CF_DIAL_TIMEOUT: value }), {
        name: 'UserError',
        message: `CF_DIAL_TIMEOUT must be a whole number of seconds from 1 to 3600, not '${value}'.`,
      });
      assert.throws(() => handshakeTimeoutMs({ CF_DIAL_TIMEOUT: value }), { name: 'UserError' });
    }
    const keepalive = ['0', '0.001', '-1', 'soon', '86401', '2147484'];
    for (const value of keepalive) {
      assert.throws(() => keepaliveMs({ CF_SSH_TOOLS_KEEPALIVE_SECONDS: value }), {
        name: 'UserError',
        message: `CF_SSH_TOOLS_KEEPALIVE_SECONDS must be a whole number of seconds from 1 to 86400, not '${value}'.`,
      });
    }
  });

  it('a silent endpoint is told the one bound and both its parts', () => {
    assert.equal(
      silentEndpointMessage('ssh.example.com', 2222, {}),
      'Error opening SSH connection: no SSH answer from ssh.example.com:2222 within 16 s (CF_DIAL_TIMEOUT 6 s to connect + 10 s for the SSH handshake).',
    );
    assert.equal(
      silentEndpointMessage('::1', 2222, { CF_DIAL_TIMEOUT: '2' }),
      'Error opening SSH connection: no SSH answer from [::1]:2222 within 12 s (CF_DIAL_TIMEOUT 2 s to connect + 10 s for the SSH handshake).',
    );
  });
});

describe('the instance picker', () => {
  const app = { guid: 'app-guid', name: 'demo-app', state: 'STARTED' } as App;
  const web: Process = { guid: 'web-guid', type: 'web', instances: 4 };
  const stats: InstanceStats[] = [
    { type: 'web', index: 0, state: 'CRASHED', details: 'exited with 1' },
    { type: 'web', index: 1, state: 'RUNNING', uptime: 3720, mem_quota: 268435456, usage: { cpu: 0.012, mem: 52428800 } },
    { type: 'web', index: 2, state: 'STARTING' },
    { type: 'web', index: 3, state: 'RUNNING', uptime: 59 },
  ];

  const TABLE = [
    'demo-app runs 4 web instances:',
    '  #   state      uptime   cpu    memory',
    '  0   CRASHED    -        -      -',
    '  1   RUNNING    1h2m     1.2%   50M of 256M',
    '  2   STARTING   -        -      -',
    '  3   RUNNING    0m59s    -      -',
  ].join('\n');
  const PROMPT = 'Instance (enter for 1): ';

  /** The picker on a terminal of the test's making: stdin a TTY, or lines typed ahead (not a TTY). */
  function picker(stdinIsTTY: boolean) {
    const stdin = Object.assign(new PassThrough(), { isTTY: stdinIsTTY });
    const stderr = Object.assign(new PassThrough(), { isTTY: true });
    let shown = '';
    stderr.on('data', (chunk: Buffer) => (shown += chunk.toString()));
    const stdout = Object.assign(new PassThrough(), { isTTY: true });
    const ctx = createContext({ streams: { stdin, stdout, stderr }, env: {}, onStop: () => () => undefined, self: [] });
    /** Resolves once the prompt has been shown `count` times. */
    const prompted = async (count: number) => {
      while (shown.split(PROMPT).length - 1 < count) await once(stderr, 'data');
    };
    return { stdin, choose: (states = stats) => chooseInstance(ctx, app, web, states), shown: () => shown, prompted };
  }

  it('offers the first running instance for enter', async () => {
    const { stdin, choose, shown } = picker(false);
    stdin.end('\n');
    assert.equal(await choose(), 1);
    assert.equal(shown(), `${TABLE}\n${PROMPT}`);
  });

  it('says why a choice is wrong and asks again', async () => {
    const { stdin, choose, shown } = picker(false);
    stdin.end('two\n0\n3\n');
    assert.equal(await choose(), 3);
    assert.equal(shown(), `${TABLE}\n${PROMPT}'two' is not an instance index.\n${PROMPT}Instance 0 is CRASHED (exited with 1), not RUNNING.\n${PROMPT}`);
  });

  it('gives up after three wrong choices with one line: the last one’s problem and what to do', async () => {
    const { stdin, choose } = picker(false);
    stdin.end('x\n9\n0\n1\n');
    await assert.rejects(choose(), {
      name: 'UserError',
      message: 'Instance 0 is CRASHED (exited with 1), not RUNNING. No instance chosen after 3 tries: give one with -i INDEX.',
    });
  });

  it('asks again on a terminal, where each answer is typed after its prompt', { timeout: 5000 }, async () => {
    const { stdin, choose, shown, prompted } = picker(true);
    const chosen = choose();
    await prompted(1);
    stdin.write('2\n');
    await prompted(2);
    stdin.write('  3 \n');
    assert.equal(await chosen, 3);
    assert.equal(shown(), `${TABLE}\n${PROMPT}Instance 2 is STARTING, not RUNNING.\n${PROMPT}`);
  });

  it('ends with one line at the end of input (Ctrl-D), on a terminal or not', async () => {
    for (const tty of [true, false]) {
      const { stdin, choose } = picker(tty);
      stdin.end();
      await assert.rejects(choose(), { name: 'UserError', message: 'No instance chosen (end of input): give one with -i INDEX.' });
    }
  });

  it('does not ask when no instance is running', async () => {
    const { stdin, choose, shown } = picker(false);
    stdin.end('1\n');
    const down = stats.map((s) => ({ ...s, state: 'DOWN' }));
    await assert.rejects(choose(down), { name: 'UserError', message: "None of demo-app's 4 web instances is RUNNING." });
    assert.doesNotMatch(shown(), /Instance \(/);
  });
});

describe('folders we cannot use', () => {
  let foundation: Foundation;
  before(async () => {
    foundation = await startFoundation({ ssh: false });
  });
  after(() => foundation.stop());

  // Node 20's recursive mkdir spins forever under /proc: a short deadline makes that a failure.
  const quickly = { timeoutMs: 5000 };
  const onLinux = { skip: process.platform !== 'linux' && '/proc is Linux’s' };
  const login = () => ['login', '-a', foundation.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'];
  const errors = (stderr: string) => stderr.split('\n').filter((line) => line && !line.startsWith('Warning: Insecure http'));

  it('login with a HOME, CF_HOME or CF_SSH_TOOLS_HOME under /proc: one line naming it, exit 1, at once', onLinux, async () => {
    const cases: [NodeJS.ProcessEnv, string][] = [
      [{ HOME: '/proc', CF_HOME: undefined }, "Cannot use HOME=/proc for cf-ssh-tools' state: cannot create /proc/.cf-ssh-tools (no such file or directory)."],
      [{ CF_HOME: '/proc' }, "Cannot use CF_HOME=/proc for cf-ssh-tools' state: cannot create /proc/.cf-ssh-tools (no such file or directory)."],
      [{ CF_SSH_TOOLS_HOME: '/proc/self/x' }, "Cannot use CF_SSH_TOOLS_HOME=/proc/self/x for cf-ssh-tools' state: cannot create /proc/self/x (no such file or directory)."],
      [{ CF_SSH_TOOLS_HOME: '/proc/self' }, "Cannot use CF_SSH_TOOLS_HOME=/proc/self for cf-ssh-tools' state: cannot write in /proc/self (no such file or directory)."],
    ];
    for (const [env, message] of cases) {
      const r = await runCli(tempHome(), login(), { env, ...quickly });
      assert.equal(r.code, 1, JSON.stringify(env));
      assert.deepEqual(errors(r.stderr), [message], JSON.stringify(env));
      assert.match(r.stdout, /\nFAILED\n$/);
    }
  });

  it('a file where a folder should be: one line naming the variable, for our state and for cf’s config', async () => {
    const file = path.join(tempHome(), 'a-file');
    writeFileSync(file, '');
    const state = await runCli(tempHome(), login(), { env: { CF_SSH_TOOLS_HOME: path.join(file, 'state') }, ...quickly });
    assert.equal(state.code, 1);
    assert.deepEqual(errors(state.stderr), [`Cannot use CF_SSH_TOOLS_HOME=${file}/state for cf-ssh-tools' state: cannot create ${file}/state (not a directory).`]);
    const config = await runCli(tempHome(), ['ssh-enabled', 'demo-app'], { env: { CF_HOME: file }, ...quickly });
    assert.equal(config.code, 1);
    assert.deepEqual(errors(config.stderr), [`Cannot use CF_HOME=${file} for cf's config: cannot read ${file}/.cf/config.json (not a directory).`]);
  });

  it('cf’s config folder under /proc: one line, at once', onLinux, async () => {
    const store = CfConfigStore.in(cfConfigFolder({ CF_HOME: '/proc' }));
    await assert.rejects(store.save(emptyLogin('https://api.example.com')), {
      name: 'UserError',
      message: "Cannot use CF_HOME=/proc for cf's config: cannot create /proc/.cf (no such file or directory).",
    });
  });

  it('a private temp folder under TMPDIR, or one line naming TMPDIR', async () => {
    const tmp = tempHome();
    const made = await makePrivateTempDir({ TMPDIR: tmp }, 'cf-ssh-tools-');
    assert.equal(path.dirname(made), tmp);
    assert.match(path.basename(made), /^cf-ssh-tools-.{6}$/);
    assert.equal(statSync(made).mode & 0o777, 0o700);
    await assert.rejects(makePrivateTempDir({ TMPDIR: path.join(tmp, 'missing') }, 'cf-ssh-tools-'), {
      name: 'UserError',
      message: `Cannot use TMPDIR=${tmp}/missing for temporary files: cannot create a folder in ${tmp}/missing (no such file or directory).`,
    });
  });

  it('a CF_TRACE file we cannot write is said as such, not as an unreachable API', async () => {
    const r = await runCli(tempHome(), login(), { env: { CF_TRACE: '/nonexistent/trace.log' }, ...quickly });
    assert.equal(r.code, 1);
    assert.deepEqual(errors(r.stderr), ['Cannot write the CF_TRACE file /nonexistent/trace.log: no such file or directory.']);
  });
});
