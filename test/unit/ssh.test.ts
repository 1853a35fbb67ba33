// The pure parts of `ssh`: -L specs, fingerprints, PTY rules, the app environment prelude,
// exit codes for signals, and the OpenSSH hand-off's arguments.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { openSshArgs } from '../../src/actions/openssh.js';
import { proxyCommand, relayThroughProxy } from '../../src/actions/proxy-dial.js';
import { appEnvCommand, type InstanceTarget, type SshEndpoint } from '../../src/actions/ssh.js';
import { wantsPty } from '../../src/commands/ssh.js';
import { fingerprintLike, verifyHostKey } from '../../src/ssh/fingerprint.js';
import { parseForwardSpec } from '../../src/ssh/forward-spec.js';
import { knownHostsLine } from '../../src/ssh/host-key.js';
import { signalExitCode } from '../../src/errors.js';
import { tempHome } from '../helpers/cli.js';

describe('-L specifications', () => {
  it('accepts what cf accepts', () => {
    assert.deepEqual(parseForwardSpec('8080:localhost:80'), { bindAddress: 'localhost', localPort: 8080, remoteHost: 'localhost', remotePort: 80 });
    assert.deepEqual(parseForwardSpec('0.0.0.0:9000:db.internal:5432'), { bindAddress: '0.0.0.0', localPort: 9000, remoteHost: 'db.internal', remotePort: 5432 });
  });

  it('accepts IPv6 addresses in brackets', () => {
    assert.deepEqual(parseForwardSpec('[::1]:8080:[fd00::1]:80'), { bindAddress: '::1', localPort: 8080, remoteHost: 'fd00::1', remotePort: 80 });
    assert.deepEqual(parseForwardSpec('8080:[fd00::1]:80'), { bindAddress: 'localhost', localPort: 8080, remoteHost: 'fd00::1', remotePort: 80 });
  });

  it('rejects empty pieces, wrong counts and bad ports with cf’s words', () => {
    for (const bad of ['8080', '8080:localhost', ':8080:localhost:80', '8080::80', 'a:b:c:d:e', '[::1:8080:h:80', 'x:localhost:80']) {
      assert.throws(() => parseForwardSpec(bad), new RegExp(`Incorrect Usage: Bad local forwarding specification '${bad.replace(/[[\]]/g, '\\$&')}'`), bad);
    }
    assert.throws(() => parseForwardSpec('70000:localhost:80'), /the local port must be between 0 and 65535/);
    assert.throws(() => parseForwardSpec('8080:localhost:0'), /the remote port must be between 1 and 65535/);
  });
});

describe('host key fingerprints', () => {
  const key = ssh2.utils.parseKey(ssh2.utils.generateKeyPairSync('ed25519').public);
  const blob = (Array.isArray(key) ? key[0] : (key as { getPublicSSH(): Buffer })).getPublicSSH();

  it('computes each format from its length and compares exactly', () => {
    const sha256 = createHash('sha256').update(blob).digest();
    const hex = sha256.toString('hex');
    const b64 = sha256.toString('base64').replace(/=+$/, '');
    const sha1 = [...createHash('sha1').update(blob).digest()].map((b) => b.toString(16).padStart(2, '0')).join(':');
    const md5 = [...createHash('md5').update(blob).digest()].map((b) => b.toString(16).padStart(2, '0')).join(':');
    for (const expected of [hex, b64, sha1, md5]) {
      assert.equal(fingerprintLike(expected, blob), expected);
      verifyHostKey(expected, blob);
    }
    assert.deepEqual([hex.length, b64.length, sha1.length, md5.length], [64, 43, 59, 47]);
  });

  it('refuses a mismatch with cf’s message, and unknown formats', () => {
    const other = 'A'.repeat(43);
    assert.throws(
      () => verifyHostKey(other, blob),
      (err: Error) => {
        assert.equal(err.message, `Host key verification failed.\n\nThe fingerprint of the received key was "${fingerprintLike(other, blob)}".`);
        return true;
      },
    );
    assert.throws(() => verifyHostKey('SHA256:abc', blob), /: Unsupported host key fingerprint format$/);
  });

  it('writes a known_hosts line with the key type', () => {
    assert.match(knownHostsLine('127.0.0.1', 2222, blob), /^\[127\.0\.0\.1\]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5/);
    assert.match(knownHostsLine('ssh.example.com', 22, blob), /^ssh\.example\.com ssh-ed25519 /);
  });
});

describe('PTY rules, as cf', () => {
  it('force always, -T never, -t on a terminal, default only for a shell on a terminal', () => {
    assert.equal(wantsPty('force', true, false), true);
    assert.equal(wantsPty('disable', false, true), false);
    assert.equal(wantsPty('request', true, true), true);
    assert.equal(wantsPty('request', false, false), false);
    assert.equal(wantsPty('auto', false, true), true);
    assert.equal(wantsPty('auto', true, true), false);
    assert.equal(wantsPty('auto', false, false), false);
  });
});

describe('exit codes', () => {
  it('a signal becomes 128 + its number', () => {
    assert.equal(signalExitCode('TERM'), 143);
    assert.equal(signalExitCode('SIGKILL'), 137);
    assert.equal(signalExitCode('INT'), 130);
  });
});

describe('--app-env', () => {
  it('runs the command as the buildpack launcher would: app folder, HOME, profile.d and .profile', () => {
    const home = path.join(tempHome(), 'home', 'vcap');
    mkdirSync(path.join(home, 'app', '.profile.d'), { recursive: true });
    mkdirSync(path.join(home, 'profile.d'), { recursive: true });
    writeFileSync(path.join(home, 'profile.d', 'buildpack.sh'), 'export FROM_BUILDPACK=yes\n');
    writeFileSync(path.join(home, 'app', '.profile.d', 'app.sh'), 'export FROM_APP="$FROM_BUILDPACK-too"\n');
    writeFileSync(path.join(home, 'app', '.profile'), 'export FROM_DOT_PROFILE=yes\n');
    const command = appEnvCommand(`echo "$PWD|$HOME|$DEPS_DIR|$FROM_APP|$FROM_DOT_PROFILE|it's quoted"`);
    const out = execFileSync('/bin/bash', ['-c', command], { env: { HOME: home, PATH: '/bin:/usr/bin' } })
      .toString()
      .trim();
    assert.equal(out, `${home}/app|${home}/app|${home}/deps|yes-too|yes|it's quoted`);
  });
});

describe('--ssh-client openssh', () => {
  const endpoint = { host: 'ssh.example.com', port: 2222, fingerprint: 'x', root: { links: {} } } as SshEndpoint;
  const target = { process: { guid: 'p-guid', type: 'web', instances: 2 }, index: 1 } as InstanceTarget;

  it('pins the known host, asks for the password only (never on argv), and passes extra args through', () => {
    const args = openSshArgs(
      endpoint,
      target,
      '/tmp/kh',
      { command: 'uptime', pty: false, noCommand: false, forwards: [parseForwardSpec('[::1]:8080:localhost:80')], skipHostValidation: false, extraArgs: ['-v'] },
      {},
    );
    // The user's own arguments right after the port: for ssh, the first value of an option wins.
    assert.deepEqual(args.slice(0, 3), ['-p', '2222', '-v']);
    assert.ok(args.includes('UserKnownHostsFile=/tmp/kh') && args.includes('StrictHostKeyChecking=yes'));
    assert.ok(args.includes('-T'));
    assert.deepEqual(args.slice(-4), ['-L', '[::1]:8080:localhost:80', 'cf:p-guid/1@ssh.example.com', 'uptime']);
    const shell = openSshArgs(endpoint, target, undefined, { pty: true, noCommand: false, forwards: [], skipHostValidation: true, extraArgs: [] }, {});
    assert.ok(shell.includes('-tt') && shell.includes('StrictHostKeyChecking=no'));
    assert.equal(shell.at(-1), 'cf:p-guid/1@ssh.example.com');
  });
});

describe('ssh2 crypto', () => {
  it('uses its native binding (the install built it); pure JS would be several times slower', async () => {
    const { createRequire } = await import('node:module');
    const crypto = createRequire(import.meta.url)('ssh2/lib/protocol/crypto.js') as { bindingAvailable: boolean };
    assert.equal(crypto.bindingAvailable, true);
  });
});

describe('the system ssh through a proxy', () => {
  it('hands ssh the ProxyCommand when one is given, and none otherwise', () => {
    const endpoint = { host: 'ssh.example.com', port: 2222, fingerprint: 'x', root: { links: {} } } as SshEndpoint;
    const target = { process: { guid: 'p-guid', type: 'web', instances: 1 }, index: 0 } as InstanceTarget;
    const options = { pty: false, noCommand: true, forwards: [], skipHostValidation: true, extraArgs: [] };
    const proxied = openSshArgs(endpoint, target, undefined, { ...options, proxyCommand: proxyCommand(['/bin/cf-ssh-tools']) }, {});
    const at = proxied.indexOf(`ProxyCommand='/bin/cf-ssh-tools' __proxy-dial %h %p`);
    assert.equal(proxied[at - 1], '-o');
    assert.ok(!openSshArgs(endpoint, target, undefined, options, {}).some((arg) => arg.startsWith('ProxyCommand=')));
  });

  it("runs us again as ssh's ProxyCommand, each word quoted for the shell and % doubled", () => {
    assert.equal(proxyCommand(['/usr/bin/node', "/opt/it's 100%/bin.js"]), `'/usr/bin/node' '/opt/it'\\''s 100%%/bin.js' __proxy-dial %h %p`);
  });

  it('relays between stdin/stdout and the endpoint until it closes', async () => {
    const echo = net.createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    try {
      const stdin = new PassThrough();
      const stdout = new PassThrough();
      const chunks: Buffer[] = [];
      stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
      const relayed = relayThroughProxy(['127.0.0.1', String((echo.address() as net.AddressInfo).port)], { stdin, stdout, stderr: new PassThrough() }, {});
      // Ending stdin ends the connection; the echo server ends its side, and the relay is over.
      stdin.end('SSH-2.0-test\r\n');
      assert.equal(await relayed, 0);
      assert.equal(Buffer.concat(chunks).toString(), 'SSH-2.0-test\r\n');
    } finally {
      echo.close();
    }
  });

  it('fails with our dial message and 255 when the endpoint cannot be reached', async () => {
    const stderr = new PassThrough();
    let said = '';
    stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
    const code = await relayThroughProxy(['127.0.0.1', '1'], { stdin: new PassThrough(), stdout: new PassThrough(), stderr }, {});
    assert.equal(code, 255);
    assert.match(said, /^Cannot reach the SSH endpoint 127\.0\.0\.1:1: connection refused\./);
  });
});
