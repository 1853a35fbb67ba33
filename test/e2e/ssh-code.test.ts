// `ssh-code APP --openssh` end to end: the built CLI prints ssh, scp and sftp command lines,
// and each is run as printed by the real OpenSSH client against the foundation's SSH proxy,
// with the printed one-time code handed over through SSH_ASKPASS. Every line needs a code of
// its own (a code is good for one connection), so each run of a line asks for a new one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cli, loggedIn, tempHome } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';

interface Printed {
  ssh: string;
  scp: string;
  sftp: string;
  code: string;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options that let a client in without a terminal, a known_hosts file or the user's config; the password comes from SSH_ASKPASS. */
const UNATTENDED = [
  '-F',
  '/dev/null',
  '-o',
  'StrictHostKeyChecking=no',
  '-o',
  'UserKnownHostsFile=/dev/null',
  '-o',
  'PubkeyAuthentication=no',
  '-o',
  'NumberOfPasswordPrompts=1',
  '-o',
  'LogLevel=ERROR',
];

describe('ssh-code --openssh: the printed lines work with OpenSSH', { timeout: 120_000 }, () => {
  let foundation: RunningFoundation;
  let developer: string;
  let dir: string;
  let askpass: string;
  let endpoint: { port: string; processGuid: string };

  before(async () => {
    foundation = await startFoundationProcess();
    developer = await loggedIn(foundation.url);
    dir = tempHome();
    askpass = path.join(dir, 'askpass.sh');
    writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$ONE_TIME_CODE"\n', { mode: 0o700 });
    const root = (await (await fetch(`${foundation.url}/`)).json()) as { links: { app_ssh: { href: string } } };
    const { access_token } = await foundation.tokens('developer', 'developer-pass');
    const apps = (await (await fetch(`${foundation.url}/v3/apps?names=demo-app`, { headers: { Authorization: `bearer ${access_token}` } })).json()) as {
      resources: { guid: string }[];
    };
    // CC gives an app's web process the app's guid.
    endpoint = { port: root.links.app_ssh.href.split(':').pop() ?? '', processGuid: apps.resources[0]?.guid ?? '' };
  });
  after(async () => {
    await foundation.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs ssh-code --openssh (with -i when `index` is given) and checks every line it prints, word for word. */
  async function printed(index?: number): Promise<Printed> {
    const r = await cli(developer, ['ssh-code', 'demo-app', '--openssh', ...(index === undefined ? [] : ['-i', String(index)])]);
    assert.equal(r.code, 0, r.stderr);
    const [ssh = '', scp = '', sftp = '', password = '', ...rest] = r.stdout.split('\n');
    assert.deepEqual(rest, [''], 'four lines and nothing else');
    const { port, processGuid } = endpoint;
    const user = `cf:${processGuid}/${index ?? 0}`;
    assert.equal(ssh, `ssh -p ${port} ${user}@127.0.0.1`);
    assert.equal(scp, `scp -P ${port} -o User=${user} LOCAL_FILE 127.0.0.1:REMOTE_PATH`);
    assert.equal(sftp, `sftp -P ${port} -o User=${user} 127.0.0.1`);
    const code = /^Password \(one-time code, good for one connection\): (\S+)$/.exec(password)?.[1];
    assert.ok(code, `the code on the last line: ${password}`);
    return { ssh, scp, sftp, code };
  }

  /** Runs a printed line as it is, with `options` after the program name and `extra` at the end. */
  async function run(line: string, code: string, options: string[], extra: string[] = [], input = ''): Promise<Run> {
    const [program = '', ...args] = line.split(' ');
    const child = spawn(program, [...UNATTENDED, ...options, ...args, ...extra], {
      env: { PATH: process.env.PATH, HOME: dir, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0', ONE_TIME_CODE: code },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input);
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
    const exit = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(timer);
    return { code: exit, stdout, stderr };
  }

  it('the sftp line logs in and lists the app folder', async () => {
    const { sftp, code } = await printed();
    // -b turns BatchMode on, and so passwords off, unless it was turned off before.
    const r = await run(sftp, code, ['-o', 'BatchMode=no', '-b', '-'], [], 'pwd\nls\ncd app\nls -a\n');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Remote working directory: \/\S+$/m);
    assert.match(r.stdout, /^sftp> ls\n.*\bapp\b/m);
    assert.match(r.stdout, /^sftp> ls -a\n.*\.profile\.d/m);
  });

  it('the ssh line runs a command on the instance asked for', async () => {
    const first = await printed();
    const r0 = await run(first.ssh, first.code, [], ['echo "index=$CF_INSTANCE_INDEX"; exit 3']);
    assert.deepEqual(r0, { code: 3, stdout: 'index=0\n', stderr: '' });
    const second = await printed(1);
    const r1 = await run(second.ssh, second.code, [], ['echo "index=$CF_INSTANCE_INDEX"']);
    assert.deepEqual(r1, { code: 0, stdout: 'index=1\n', stderr: '' });
  });

  it('the scp line copies a file to the instance', async () => {
    const local = path.join(dir, 'local.txt');
    writeFileSync(local, 'copied with the printed scp line\n');
    const { scp, code } = await printed();
    const copy = await run(scp.replace('LOCAL_FILE', local).replace('REMOTE_PATH', 'tmp/from-scp.txt'), code, []);
    assert.deepEqual(copy, { code: 0, stdout: '', stderr: '' });
    const check = await printed();
    const r = await run(check.ssh, check.code, [], ['cat tmp/from-scp.txt']);
    assert.deepEqual(r, { code: 0, stdout: 'copied with the printed scp line\n', stderr: '' });
  });
});
