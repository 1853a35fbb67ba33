// `ssh` end to end: the built CLI → the foundation's SSH proxy → a real OpenSSH sshd per
// app instance (or the built-in backend where sshd is not installed). What ssh refuses before
// it connects is tested in-process in test/unit/cli-ssh-checks.test.ts.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BIN, cli, loggedIn, tempHome } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';
import { echoServer, freePort, roundTrip, waitForPort } from '../helpers/net.js';
import { connectProxy, socks5Proxy } from '../helpers/proxies.js';

interface SshLogEntry {
  event: string;
  [key: string]: unknown;
}

describe('ssh through the foundation’s SSH proxy', () => {
  let foundation: RunningFoundation;
  let developer: string;

  const settings = (body: Record<string, unknown>) => foundation.control('PUT', '/foundation/settings', body);

  before(async () => {
    foundation = await startFoundationProcess();
    developer = await loggedIn(foundation.url);
  });
  after(() => foundation.stop());

  it('runs -c commands (joined with spaces) with the remote exit status', async () => {
    const r = await cli(developer, ['ssh', 'demo-app', '-c', 'echo "index=$CF_INSTANCE_INDEX"', '-c', '; exit 3']);
    assert.equal(r.stdout, 'index=0\n');
    assert.equal(r.code, 3, r.stderr);
  });

  it('reaches the instance and process asked for', async () => {
    const one = await cli(developer, ['ssh', 'demo-app', '-i', '1', '-c', 'echo $CF_INSTANCE_INDEX']);
    assert.equal(one.stdout, '1\n', one.stderr);
    const worker = await cli(developer, ['ssh', 'demo-app', '--process', 'worker', '-c', 'echo "$VCAP_APPLICATION"']);
    assert.equal(worker.code, 0, worker.stderr);
    assert.equal(JSON.parse(worker.stdout).application_name, 'demo-app');
  });

  it('a command that does not exist exits 127; a signal exits 128+N with cf’s line', async () => {
    const missing = await cli(developer, ['ssh', 'demo-app', '-c', 'no-such-command-here']);
    assert.equal(missing.code, 127);
    const killed = await cli(developer, ['ssh', 'demo-app', '-c', 'kill -TERM $$']);
    assert.equal(killed.code, 143);
    assert.match(killed.stderr, /^Process terminated by signal: TERM\. Exited with 143$/m);
  });

  it('a shell reads commands piped into stdin, without a terminal (echo "uptime; exit" | ssh)', async () => {
    const r = await cli(developer, ['ssh', 'demo-app'], { input: 'echo "piped $CF_INSTANCE_INDEX"\nexit 4\n' });
    assert.equal(r.stdout, 'piped 0\n');
    assert.equal(r.code, 4, r.stderr);
    const eof = await cli(developer, ['ssh', 'demo-app', '-c', 'cat | wc -c'], { input: 'twelve bytes' });
    assert.equal(eof.stdout.trim(), '12', 'stdin EOF reaches the remote command');
  });

  it('--app-env starts where the app starts: app folder, profile.d and .profile sourced', async () => {
    const plain = await cli(developer, ['ssh', 'demo-app', '-c', 'echo "[$APP_PROFILE_LOADED][$BUILDPACK_PROFILE_LOADED]"']);
    assert.equal(plain.stdout, '[][]\n', 'a plain session is not set up, as on Diego');
    const r = await cli(developer, ['ssh', 'demo-app', '--app-env', '-c', 'echo "[$APP_PROFILE_LOADED][$BUILDPACK_PROFILE_LOADED][$APP_DOT_PROFILE][${PWD##*/}]"']);
    assert.equal(r.stdout, '[yes][yes][yes][app]\n', r.stderr);
  });

  it('verifies the host key in each of the four fingerprint formats, refuses a wrong one unless -k', async () => {
    try {
      for (const format of ['sha256-base64', 'sha256-hex', 'sha1', 'md5']) {
        await settings({ fingerprint_format: format });
        const r = await cli(developer, ['ssh', 'demo-app', '-c', 'true']);
        assert.equal(r.code, 0, `${format}: ${r.stderr}`);
      }
      await settings({ fingerprint_format: 'wrong' });
      const refused = await cli(developer, ['ssh', 'demo-app', '-c', 'echo should-not-run']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^Host key verification failed\.\n\nThe fingerprint of the received key was "[A-Za-z0-9+/]{43}"\.\n$/);
      assert.equal(refused.stdout, 'FAILED\n');
      const skipped = await cli(developer, ['ssh', 'demo-app', '-k', '-c', 'echo ran']);
      assert.equal(skipped.stdout, 'ran\n', skipped.stderr);
    } finally {
      await settings({ fingerprint_format: 'sha256-base64' });
    }
  });

  it('an auditor is refused by the proxy with cf’s message', async () => {
    const auditor = await loggedIn(foundation.url, 'auditor');
    const r = await cli(auditor, ['ssh', 'demo-app', '-c', 'true']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error opening SSH connection: You are not authorized to perform the requested action.\n');
  });

  it('-L forwards 200 concurrent connections through one tunnel; a refused target is reported and the tunnel stays up', async () => {
    const echo = await echoServer();
    const closed = await freePort();
    const local = await freePort();
    const refusedLocal = await freePort();
    const child = spawn(process.execPath, [BIN, 'ssh', 'demo-app', '-N', '-L', `${local}:127.0.0.1:${echo.port}`, '-L', `${refusedLocal}:127.0.0.1:${closed}`], {
      env: { PATH: process.env.PATH, HOME: developer, CF_HOME: developer, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    try {
      await waitForPort(local);
      const payloads = Array.from({ length: 200 }, (_, i) => Buffer.from(`connection ${i} `.repeat(500)));
      const echoed = await Promise.all(payloads.map((p) => roundTrip(local, p))).catch((err: Error) => {
        throw new Error(`${err.message}; cf-ssh-tools said: ${stderr}`);
      });
      echoed.forEach((e, i) => assert.ok(payloads[i] && e.equals(payloads[i]), `connection ${i} came back intact`));
      const refused = await roundTrip(refusedLocal, Buffer.from('hello'));
      assert.equal(refused.length, 0);
      for (let i = 0; i < 50 && !stderr.includes('failed'); i += 1) await sleep(100);
      assert.match(stderr, new RegExp(`connect to 127\\.0\\.0\\.1:${closed} failed: `));
      const after = await roundTrip(local, Buffer.from('still up'));
      assert.equal(after.toString(), 'still up');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
      child.kill('SIGINT');
      assert.equal(await exited, 'SIGINT', 'Ctrl-C closes the tunnels, then the process dies of it, as cf ssh -N');
      echo.close();
    }
  });

  it('-L keeps buffering bounded: a target that stops reading slows the sender instead of filling memory', async () => {
    const stalled = net.createServer((socket) => socket.pause());
    await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
    const local = await freePort();
    const child = spawn(process.execPath, [BIN, 'ssh', 'demo-app', '-N', '-L', `${local}:127.0.0.1:${(stalled.address() as AddressInfo).port}`], {
      env: { PATH: process.env.PATH, HOME: developer, CF_HOME: developer, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' },
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024;
    try {
      await waitForPort(local);
      const before = rss();
      const socket = net.connect(local, '127.0.0.1');
      // A connection the tunnel drops is this test's failure, said as one, not an uncaught error.
      let dropped: Error | undefined;
      socket.on('error', (err) => (dropped = err));
      await new Promise((resolve) => socket.once('connect', resolve));
      const chunk = Buffer.alloc(1 << 20, 7);
      let written = 0;
      // Write until 256 MiB went out or the writes have been held back for two seconds.
      while (written < 256 * chunk.length && !socket.destroyed) {
        if (!socket.write(chunk)) {
          const drained = await Promise.race([new Promise((r) => socket.once('drain', () => r(true))), sleep(2000).then(() => false)]);
          if (!drained) break;
        }
        written += chunk.length;
      }
      const growth = rss() - before;
      socket.destroy();
      assert.equal(dropped, undefined, 'the tunnel kept the connection open while its target did not read');
      assert.ok(written < 128 * chunk.length, `the sender was held back (it wrote ${written >> 20} MiB)`);
      assert.ok(growth < 64 * chunk.length, `cf-ssh-tools grew by ${growth >> 20} MiB`);
    } finally {
      child.kill('SIGINT');
      stalled.close();
    }
  });

  it('goes through a SOCKS5 proxy (all_proxy) and an HTTP CONNECT proxy (https_proxy)', async () => {
    const root = (await (await fetch(`${foundation.url}/`)).json()) as { links: { app_ssh: { href: string } } };
    for (const [proxy, variable] of [
      [await socks5Proxy(), 'all_proxy'],
      [await connectProxy(), 'https_proxy'],
    ] as const) {
      try {
        const r = await cli(developer, ['ssh', 'demo-app', '-c', 'echo via proxy'], { env: { [variable]: proxy.url, no_proxy: '' } });
        assert.equal(r.stdout, 'via proxy\n', `${variable}: ${r.stderr}`);
        assert.ok(proxy.tunnels.includes(root.links.app_ssh.href), `${variable}: tunnels ${proxy.tunnels.join(', ')}`);
        // The system ssh takes the same way: its ProxyCommand runs our own dialer.
        proxy.tunnels.length = 0;
        const openssh = await cli(developer, ['ssh', 'demo-app', '--ssh-client', 'openssh', '-c', 'echo openssh via proxy'], { env: { [variable]: proxy.url, no_proxy: '' } });
        assert.equal(openssh.stdout.replace(/\r/g, ''), 'openssh via proxy\n', `${variable}: ${openssh.stderr}`);
        assert.equal(openssh.code, 0);
        // Two tunnels: reading the host key to pin it, then ssh's own connection.
        assert.deepEqual(proxy.tunnels, [root.links.app_ssh.href, root.links.app_ssh.href], `${variable}: tunnels ${proxy.tunnels.join(', ')}`);
      } finally {
        proxy.close();
      }
    }
  });

  it('honours CF_DIAL_TIMEOUT when the way to the proxy does not answer', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const r = await cli(developer, ['ssh', 'demo-app', '-c', 'true'], {
        env: { https_proxy: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, CF_DIAL_TIMEOUT: '1' },
      });
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Cannot reach the SSH endpoint .+ through the HTTP proxy .+: no answer within 1 s \(CF_DIAL_TIMEOUT\)\. Check the proxy setting\.$/m);
      assert.ok(Date.now() - started < 10_000);
    } finally {
      silent.close();
    }
  });

  it('sends keepalive@cloudfoundry.org and answers the proxy’s keepalive channel requests', async () => {
    await settings({ keepalive_seconds: 1 });
    try {
      const r = await cli(developer, ['ssh', 'demo-app', '-t', '-t', '-c', 'sleep 3; echo done'], { env: { CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /done/);
      const log = await foundation.control<SshLogEntry[]>('GET', '/foundation/ssh/log');
      assert.ok(
        log.some((e) => JSON.stringify(e).includes('keepalive@cloudfoundry.org')),
        'the proxy saw our keepalive',
      );
    } finally {
      await settings({ keepalive_seconds: 15 });
    }
  });

  it('a connection lost mid-session ends with a clear message and exit 255', async () => {
    const child = cli(developer, ['ssh', 'demo-app', '-c', 'sleep 30']);
    await sleep(1500);
    await foundation.control('POST', '/foundation/ssh/drop');
    const r = await child;
    assert.equal(r.code, 255);
    assert.match(r.stderr, /^Connection to the app instance was lost/m);
  });

  it('notices a connection that silently stopped answering after three missed keepalives: exit 255', async () => {
    const child = cli(developer, ['ssh', 'demo-app', '-c', 'sleep 60'], { env: { CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' }, timeoutMs: 30_000 });
    await sleep(1500);
    await foundation.control('POST', '/foundation/ssh/freeze');
    const r = await child;
    assert.equal(r.code, 255);
    assert.match(r.stderr, /^Connection to the app instance was lost after \d+ s \(no answer to 3 keepalives 1 s apart\)\.$/m);
  });

  it('--ssh-client openssh hands the connection to the system ssh, with the code through SSH_ASKPASS', async () => {
    const r = await cli(developer, ['ssh', 'demo-app', '-i', '1', '--ssh-client', 'openssh', '-c', 'echo "openssh $CF_INSTANCE_INDEX"']);
    assert.equal(r.stdout.replace(/\r/g, ''), 'openssh 1\n', r.stderr);
    assert.equal(r.code, 0);
    const status = await cli(developer, ['ssh', 'demo-app', '--ssh-client', 'openssh', '-c', 'exit 7', '--', '-o', 'ConnectTimeout=5', '-q']);
    assert.equal(status.code, 7, status.stderr);
  });

  it('ssh-code --openssh prints command lines that work with plain ssh', async () => {
    const r = await cli(developer, ['ssh-code', '--openssh', 'demo-app']);
    assert.equal(r.code, 0, r.stderr);
    const [sshLine = '', scpLine = '', sftpLine = '', codeLine = ''] = r.stdout.trim().split('\n');
    assert.match(sshLine, /^ssh -p \d+ cf:[0-9a-f-]{36}\/0@127\.0\.0\.1$/);
    assert.match(scpLine, /^scp -P \d+ -o User=cf:[0-9a-f-]{36}\/0 LOCAL_FILE 127\.0\.0\.1:REMOTE_PATH$/);
    assert.match(sftpLine, /^sftp -P \d+ -o User=cf:[0-9a-f-]{36}\/0 127\.0\.0\.1$/);
    const code = /: (\S+)$/.exec(codeLine)?.[1];
    assert.ok(code, `a code on the last line: ${codeLine}`);
    const dir = tempHome();
    const askpass = path.join(dir, 'askpass');
    writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$TEST_CODE"\n');
    chmodSync(askpass, 0o700);
    const [, port = '', user = ''] = /-p (\d+) (\S+)@/.exec(sshLine) ?? [];
    const out = execFileSync(
      'ssh',
      [
        '-p',
        port,
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'LogLevel=ERROR',
        '-o',
        'PubkeyAuthentication=no',
        `${user}@127.0.0.1`,
        'echo $CF_INSTANCE_INDEX',
      ],
      {
        env: { PATH: process.env.PATH, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', TEST_CODE: code, DISPLAY: ':0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    assert.equal(out.toString(), '0\n');
  });
});
