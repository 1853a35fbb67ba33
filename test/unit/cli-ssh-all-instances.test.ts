// `ssh APP --all-instances -c CMD` and `--instances LIST`: the CLI and the foundation in-process,
// demo-app's two web instances each behind a real SSH server reached through the foundation's
// proxy. Output marked per instance, exit statuses, an instance not running, one lost mid-run,
// Ctrl-C; and that no connection outlives the run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { instanceList } from '../../src/commands/ssh-all-instances.js';
import { PrefixedLines } from '../../src/io/prefixed-lines.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { type LocalServer, localServer, sendJson } from '../helpers/local-server.js';
import { loggedIn, runCli, startCli } from '../helpers/run-cli.js';

describe('prefixed lines', () => {
  it('writes whole lines only, each marked; an unfinished last line is written by flush with its newline', () => {
    const target = new PassThrough();
    const lines = new PrefixedLines('[web/1] ', target);
    lines.write('one\ntw');
    lines.write('o\n\nthr');
    assert.equal(String(target.read()), '[web/1] one\n[web/1] two\n[web/1] \n');
    lines.write('ee');
    assert.equal(target.read(), null, 'a line without its newline waits');
    lines.flush();
    assert.equal(String(target.read()), '[web/1] three\n');
    lines.flush();
    assert.equal(target.read(), null, 'nothing is left to flush');
  });

  it('splits bytes only at newlines: a character cut between two chunks stays whole', () => {
    const target = new PassThrough();
    const lines = new PrefixedLines('> ', target);
    const text = Buffer.from('é🚀\n');
    lines.write(text.subarray(0, 3));
    lines.write(text.subarray(3));
    assert.equal(String(target.read()), '> é🚀\n');
  });
});

describe('--instances LIST', () => {
  it('takes indexes and ranges, each once, ascending', () => {
    assert.deepEqual(instanceList('0,2-4'), [0, 2, 3, 4]);
    assert.deepEqual(instanceList('3, 1,1-2'), [1, 2, 3]);
    for (const bad of ['', '1,', 'a', '-1', '4-2', '1-2-3', '1.5']) {
      assert.throws(() => instanceList(bad), { name: 'UsageError', message: /--instances takes indexes and ranges/ }, bad);
    }
  });
});

describe('ssh on many instances', () => {
  let foundation: Foundation;
  let developer: string;

  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'openssh' });
    developer = await loggedIn(foundation.url);
  });
  after(() => foundation.stop());
  afterEach(async () => {
    for (const index of [0, 1]) await setInstanceState(index, 'RUNNING');
  });

  async function setInstanceState(index: number, state: string): Promise<void> {
    const res = await fetch(`${foundation.url}/foundation/instances`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ app: 'demo-app', index, state }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  /** Logins the proxy accepted since the last call, by instance (each with its own one-time code). */
  function acceptedLogins(): string[] {
    const log = foundation.ssh!.proxy.log.splice(0);
    return log
      .filter((entry) => entry.event === 'accepted')
      .map((entry) => entry.username.replace(/^cf:[^/]+\//, 'web/'))
      .sort();
  }

  /** Connections open to the SSH proxy (the CLI's, in this process), awaited until none is left. */
  async function noProxyConnectionLeft(): Promise<void> {
    const port = foundation.settings.appSsh.href.split(':').at(-1)!;
    const open = () => spawnSync('ss', ['-Htn', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' }).stdout.trim();
    const deadline = Date.now() + 10_000;
    while (open() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(open(), '', 'a connection to the SSH proxy was left open');
  }

  /**
   * Ends what a test left running on the instances, by process id: the foundation's sshd, without
   * a PTY, leaves a command running when its connection goes, as OpenSSH does.
   */
  function endRemote(command: string): void {
    const pids = spawnSync('pgrep', ['-fx', command], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const pid of pids) process.kill(Number(pid));
  }

  it('looks the app, its instances and its SSH switches up once, not once per instance', async () => {
    foundation.requests.length = 0;
    const r = await runCli(developer, ['ssh', 'demo-app', '--all-instances', '-c', 'true']);
    assert.equal(r.code, 0, r.stderr);
    const asked = (pattern: RegExp) => foundation.requests.filter((request) => request.method === 'GET' && pattern.test(request.path)).length;
    assert.deepEqual(
      { apps: asked(/^\/v3\/apps$/), stats: asked(/^\/v3\/processes\/[^/]+\/stats$/), switches: asked(/^\/v3\/apps\/[^/]+\/ssh_enabled$/) },
      { apps: 1, stats: 1, switches: 1 },
    );
  });

  it('runs on every instance, each line marked, stdout and stderr apart, an unfinished last line ended', async () => {
    foundation.ssh!.proxy.log.length = 0;
    const r = await runCli(developer, ['ssh', 'demo-app', '--all-instances', '-c', 'echo out-$CF_INSTANCE_INDEX; echo err-$CF_INSTANCE_INDEX >&2; printf tail']);
    assert.equal(r.code, 0, r.stderr);
    const stdout = r.stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(stdout, ['[web/0] out-0', '[web/0] tail', '[web/1] out-1', '[web/1] tail']);
    const stderr = r.stderr.split('\n');
    assert.deepEqual(stderr.slice(0, -2).sort(), ['[web/0] err-0', '[web/1] err-1']);
    assert.deepEqual(stderr.slice(-2), ['demo-app: 2 of 2 instances succeeded', '']);
    assert.deepEqual(acceptedLogins(), ['web/0', 'web/1'], 'one login, with a code of its own, per instance');
    await noProxyConnectionLeft();
  });

  it('exits with the status of the lowest failing instance, and names each failure', async () => {
    const r = await runCli(developer, ['ssh', 'demo-app', '--all-instances', '-c', 'exit $((CF_INSTANCE_INDEX + 3))']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [3, '', 'demo-app: 0 of 2 instances succeeded; failed: web/0 (exit 3), web/1 (exit 4)\n']);
    const one = await runCli(developer, ['ssh', 'demo-app', '--instances', '0-1', '-c', '[ $CF_INSTANCE_INDEX = 1 ] && kill -TERM $$; echo fine']);
    assert.deepEqual([one.code, one.stdout, one.stderr], [143, '[web/0] fine\n', 'demo-app: 1 of 2 instances succeeded; failed: web/1 (signal TERM)\n']);
  });

  it('--group: each instance as one block; --json: a document with each instance', async () => {
    const grouped = await runCli(developer, ['ssh', 'demo-app', '--all-instances', '--group', '-c', 'echo a-$CF_INSTANCE_INDEX; sleep 0.2; echo b-$CF_INSTANCE_INDEX']);
    assert.equal(grouped.code, 0, grouped.stderr);
    assert.match(grouped.stdout, /^(\[web\/(\d)\] a-\2\n\[web\/\2\] b-\2\n){2}$/);
    assert.match(grouped.stdout, /\[web\/0\] a-0\n\[web\/0\] b-0\n/);
    assert.match(grouped.stdout, /\[web\/1\] a-1\n\[web\/1\] b-1\n/);

    const json = await runCli(developer, ['ssh', 'demo-app', '--all-instances', '--json', '-c', 'echo out-$CF_INSTANCE_INDEX; echo err >&2; exit $CF_INSTANCE_INDEX']);
    assert.equal(json.code, 1);
    assert.equal(json.stderr, 'demo-app: 1 of 2 instances succeeded; failed: web/1 (exit 1)\n');
    const document = JSON.parse(json.stdout) as { app: string; process: string; instances: { durationMs: number }[] };
    assert.deepEqual(
      document.instances.map(({ durationMs, ...rest }) => {
        assert.ok(durationMs >= 0 && durationMs < 20_000, `duration ${durationMs}`);
        return rest;
      }),
      [
        { index: 0, exitStatus: 0, stdout: 'out-0\n', stderr: 'err\n' },
        { index: 1, exitStatus: 1, stdout: 'out-1\n', stderr: 'err\n' },
      ],
    );
    assert.deepEqual([document.app, document.process], ['demo-app', 'web']);
  });

  it('skips an instance that is not running and names it; one named by --instances fails the run', async () => {
    await setInstanceState(1, 'CRASHED');
    foundation.ssh!.proxy.log.length = 0;
    const all = await runCli(developer, ['ssh', 'demo-app', '--all-instances', '-c', 'echo hi']);
    assert.deepEqual([all.code, all.stdout, all.stderr], [0, '[web/0] hi\n', 'demo-app: 1 of 1 instance succeeded; not running: web/1 (CRASHED)\n']);
    assert.deepEqual(acceptedLogins(), ['web/0'], 'nothing tried on the crashed one');
    const named = await runCli(developer, ['ssh', 'demo-app', '--instances', '1', '-c', 'echo hi']);
    assert.deepEqual([named.code, named.stdout, named.stderr], [1, '', 'demo-app: 0 of 0 instances succeeded; not running: web/1 (CRASHED)\n']);
  });

  it('a connection lost on one instance ends that one only', async () => {
    const running = startCli(developer, ['ssh', 'demo-app', '--all-instances', '-c', 'echo up; [ $CF_INSTANCE_INDEX = 1 ] && exec sleep 60.1; echo done']);
    await running.waitFor('stdout', /\[web\/1\] up\n/);
    await setInstanceState(1, 'CRASHED');
    const r = await running.result;
    assert.equal(r.code, 1, r.stderr);
    assert.deepEqual(r.stdout.split('\n').sort(), ['', '[web/0] done', '[web/0] up', '[web/1] up']);
    assert.match(r.stderr, /^\[web\/1\] (Connection to the app instance was lost after \d+ s \(.+\)|The remote process ended without an exit status)\.\n/);
    assert.match(r.stderr, /\ndemo-app: 1 of 2 instances succeeded; failed: web\/1 \(failed\)\n$/);
    await noProxyConnectionLeft();
    endRemote('sleep 60.1');
  });

  it('Ctrl-C ends every instance, after what each had written', async () => {
    const running = startCli(developer, ['ssh', 'demo-app', '--all-instances', '-c', 'echo started; exec sleep 60.2']);
    await running.waitFor('stdout', /\[web\/0\] started/);
    await running.waitFor('stdout', /\[web\/1\] started/);
    assert.equal(running.signals.send('SIGINT'), 1, 'one lifecycle for the whole run');
    const r = await running.result;
    assert.equal(r.code, 130);
    assert.deepEqual(r.stdout.split('\n').sort(), ['', '[web/0] started', '[web/1] started']);
    assert.equal(r.stderr, '');
    await noProxyConnectionLeft();
    endRemote('sleep 60.2');
  });

  it('refuses what a run on many instances cannot do, before anything connects', async () => {
    foundation.ssh!.proxy.log.length = 0;
    for (const [args, message] of [
      [['--all-instances'], '--all-instances and --instances run a command: give it with -c COMMAND'],
      [['--all-instances', '--instances', '1', '-c', 'true'], 'The following arguments cannot be used together: --all-instances, --instances'],
      [['--all-instances', '-i', '1', '-c', 'true'], '--all-instances and --instances cannot be used with --app-instance-index, -i'],
      [['--instances', '0', '-N', '-L', '9:h:9', '-c', 'true'], '--all-instances and --instances cannot be used with --skip-remote-execution, -N, -L'],
      [['--all-instances', '-t', '-c', 'true'], '--all-instances and --instances cannot be used with a pseudo-tty'],
      [['--all-instances', '--group', '--json', '-c', 'true'], 'The following arguments cannot be used together: --group, --json'],
      [['--group', '-c', 'true'], '--group goes with --all-instances or --instances'],
      [['--json', '--max-parallel', '2', '-c', 'true'], '--max-parallel, --json go with --all-instances or --instances'],
      [['--all-instances', '--max-parallel', '0', '-c', 'true'], "--max-parallel takes a number from 1 to 64, not '0'"],
      [['--instances', '1-', '-c', 'true'], "--instances takes indexes and ranges separated by commas (0,2-4), not '1-'"],
    ] as const) {
      const r = await runCli(developer, ['ssh', 'demo-app', ...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stdout, /^FAILED\n\nNAME:\n   ssh - /, `${args.join(' ')}: the command's help`);
      assert.match(r.stderr, new RegExp(`^Incorrect Usage: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`), args.join(' '));
    }
    const missing = await runCli(developer, ['ssh', 'demo-app', '--instances', '1,5-6', '-c', 'true']);
    assert.deepEqual([missing.code, missing.stdout, missing.stderr], [1, 'FAILED\n', 'Instances 5, 6 of process web not found: demo-app has 2 web instances.\n']);
    assert.deepEqual(foundation.ssh!.proxy.log, []);
  });
});

describe('ssh on many instances, with UAA rate-limiting one-time codes', () => {
  let foundation: Foundation;
  let uaa: LocalServer;
  /** How many requests for a code UAA still refuses with 429 (no Retry-After: the HTTP client leaves the retry to us). */
  let refusals = 0;

  before(async () => {
    // UAA in front of the foundation's own: everything relayed, except the refusals.
    uaa = await localServer((req, res) => {
      if (req.url?.startsWith('/uaa/oauth/authorize') && refusals > 0) {
        refusals -= 1;
        return sendJson(res, 429, { error: 'too_many_requests' });
      }
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => name !== 'host' && name !== 'accept-encoding')) as Record<string, string>;
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
        void fetch(`${foundation.url}${req.url}`, { method: req.method, headers, body, redirect: 'manual' }).then(async (answer) => {
          const kept = [...answer.headers].filter(([name]) => name !== 'content-encoding' && name !== 'content-length' && name !== 'transfer-encoding');
          res.writeHead(answer.status, Object.fromEntries(kept));
          res.end(Buffer.from(await answer.arrayBuffer()));
        });
      });
    });
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin', published: { uaaUrl: uaa.url } });
  });
  after(async () => {
    await foundation.stop();
    await uaa.close();
  });

  it('asks again after a 429, with backoff, until each instance has its code', async () => {
    const home = await loggedIn(foundation.url);
    refusals = 3;
    uaa.requests.length = 0;
    const r = await runCli(home, ['ssh', 'demo-app', '--all-instances', '-c', 'echo $CF_INSTANCE_INDEX']);
    assert.deepEqual([r.code, r.stdout.split('\n').sort(), r.stderr], [0, ['', '[web/0] 0', '[web/1] 1'], 'demo-app: 2 of 2 instances succeeded\n']);
    assert.equal(refusals, 0);
    assert.equal(uaa.requests.filter((request) => request.includes('/oauth/authorize')).length, 5, 'three refused, then one code per instance');
  });
});
