// The foundation's Diego-like SSH proxy: who it lets in and why not, what it relays to the
// instances' OpenSSH sshd (exec, exit status and signals, environment, PTY, sftp, port
// forwarding), its keepalives, host key fingerprints, and clean stops.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import ssh2, { type ClientChannel, type ConnectConfig } from 'ssh2';
import { type Foundation, startFoundation } from '../foundation/server.js';
import type { SshLogEntry } from '../foundation/ssh-proxy.js';
import { FOUNDATION_MAIN } from '../helpers/foundation.js';
import { echoServer, freePort } from '../helpers/net.js';

const OPENSSH = spawnSync('/usr/sbin/sshd', ['-V']).error === undefined;
const SSH_CLIENT = spawnSync('ssh', ['-V']).error === undefined;

interface Exec {
  stdout: string;
  stderr: string;
  code: number | null;
  signal?: string;
}

/** Talks to a foundation as a client would: UAA for codes, SSH through its proxy. */
class Visitor {
  constructor(readonly foundation: Foundation) {}

  async control<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.foundation.url}${route}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** A one-time code, as `cf ssh-code` gets one: log in, then /oauth/authorize for client ssh-proxy. */
  async code(user = 'developer'): Promise<string> {
    const res = await fetch(`${this.foundation.url}/uaa/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from('cf:').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'password', username: user, password: `${user}-pass` }).toString(),
    });
    const { access_token } = (await res.json()) as { access_token: string };
    const authorize = await fetch(`${this.foundation.url}/uaa/oauth/authorize?client_id=ssh-proxy&response_type=code`, {
      headers: { Authorization: `bearer ${access_token}` },
      redirect: 'manual',
    });
    return new URL(authorize.headers.get('location')!).searchParams.get('code')!;
  }

  processGuid(app: string, type = 'web'): string {
    return this.foundation.world.apps.find((a) => a.name === app)!.processes.find((p) => p.type === type)!.guid;
  }

  get port(): number {
    return this.foundation.ssh!.proxy.port;
  }

  /** `prepare` sees the client before it connects, to hear the handshake, say. */
  connect(username: string, password: string, config: Partial<ConnectConfig> = {}, prepare?: (client: ssh2.Client) => void): Promise<ssh2.Client> {
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      prepare?.(client);
      client.once('ready', () => resolve(client));
      client.once('error', reject);
      client.connect({ host: '127.0.0.1', port: this.port, username, password, readyTimeout: 10_000, ...config });
    });
  }

  async login(app = 'demo-app', index = 0, user = 'developer', config: Partial<ConnectConfig> = {}, prepare?: (client: ssh2.Client) => void): Promise<ssh2.Client> {
    return this.connect(`cf:${this.processGuid(app)}/${index}`, await this.code(user), config, prepare);
  }

  async log(): Promise<SshLogEntry[]> {
    return this.control<SshLogEntry[]>('GET', '/foundation/ssh/log');
  }

  /** Logging in fails as an authentication failure, and the log says why. */
  async assertRefused(username: string, password: string, why: RegExp): Promise<void> {
    await assert.rejects(this.connect(username, password), /All configured authentication methods failed/);
    const rejected = (await this.log()).filter((entry) => entry.event === 'rejected' && entry.username === username);
    assert.match(rejected.at(-1)?.detail ?? '(not logged)', why);
  }
}

function run(client: ssh2.Client, command: string, options: { input?: string; env?: Record<string, string> } = {}): Promise<Exec> {
  return new Promise((resolve, reject) => {
    client.exec(command, { env: options.env }, (err, channel) => {
      if (err) return reject(err);
      collect(channel, options.input).then(resolve, reject);
    });
  });
}

function collect(channel: ClientChannel, input?: string): Promise<Exec> {
  const result: Exec = { stdout: '', stderr: '', code: null };
  channel.on('data', (data: Buffer) => (result.stdout += data));
  channel.stderr.on('data', (data: Buffer) => (result.stderr += data));
  channel.on('exit', (code: number | null, signal?: string) => {
    result.code = code;
    if (signal) result.signal = signal;
  });
  channel.end(input);
  return new Promise((resolve) => channel.once('close', () => resolve(result)));
}

function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  return (async () => {
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
}

describe('SSH proxy into OpenSSH backends', { skip: !OPENSSH && 'OpenSSH sshd is not installed', timeout: 120_000 }, () => {
  let foundation: Foundation;
  let visitor: Visitor;
  const clients: ssh2.Client[] = [];
  const login = async (...args: Parameters<Visitor['login']>) => {
    const client = await visitor.login(...args);
    clients.push(client);
    return client;
  };

  before(async () => {
    foundation = await startFoundation();
    visitor = new Visitor(foundation);
  });
  after(async () => {
    for (const client of clients) client.end();
    await foundation.stop();
  });

  it('runs commands in the instance with their exit status, stderr, stdin and signals', async () => {
    const client = await login('demo-app', 1);
    assert.deepEqual(await run(client, 'echo $CF_INSTANCE_INDEX'), { stdout: '1\n', stderr: '', code: 0 });
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => run(client, `echo ${i}; exit ${i}`)));
    assert.deepEqual(
      statuses.map((r) => r.code),
      Array.from({ length: 20 }, (_, i) => i),
      'every exit status arrives, before the channel closes',
    );
    assert.deepEqual(await run(client, 'echo oops >&2; exit 1'), { stdout: '', stderr: 'oops\n', code: 1 });
    assert.deepEqual(await run(client, 'tr a-z A-Z', { input: 'piped in\n' }), { stdout: 'PIPED IN\n', stderr: '', code: 0 });
    const killed = await run(client, 'kill -TERM $$');
    assert.equal(killed.code, null);
    assert.equal(killed.signal, 'SIGTERM');
    assert.equal((await run(client, 'no-such-command')).code, 127);
    const big = await run(client, 'head -c 3000000 /dev/zero');
    assert.equal(big.stdout.length, 3_000_000, 'a large output arrives whole, window after window');
    const backends = await visitor.control<{ kind: string }[]>('GET', '/foundation/ssh/backends');
    assert.deepEqual(
      backends.map((b) => b.kind),
      ['openssh'],
    );
  });

  it('gives sessions a Diego container environment, without sourcing the profile scripts', async () => {
    const client = await login('demo-app', 0);
    const { stdout, code } = await run(
      client,
      'echo "$PATH|$LANG|$HOME|$PWD|$CF_INSTANCE_INDEX|$INSTANCE_INDEX|$GREETING|$VCAP_SERVICES|$FROM_CLIENT|${APP_PROFILE_LOADED-unset}"; ' +
        'echo "$VCAP_APPLICATION"; echo "$CF_INSTANCE_GUID"; ls -A app; ls; cat app/.profile.d/app-env.sh app/.profile profile.d/buildpack.sh',
      { env: { FROM_CLIENT: 'sent with env' } },
    );
    assert.equal(code, 0);
    const [summary = '', vcapApplication = '', instanceGuid = '', ...rest] = stdout.trimEnd().split('\n');
    const [pathVar, lang, home = '', pwd, ...more] = summary.split('|');
    assert.equal(pathVar, '/bin:/usr/bin');
    assert.equal(lang, 'en_US.UTF8');
    assert.match(home, /\/home\/vcap$/);
    assert.equal(pwd, home);
    assert.deepEqual(more, ['0', '0', 'hello from cf-ssh-tools', '{}', 'sent with env', 'unset']);
    const app = foundation.world.apps.find((a) => a.name === 'demo-app')!;
    assert.deepEqual(JSON.parse(vcapApplication), {
      ...foundation.world.vcapApplication(app, foundation.url),
      process_id: app.guid,
      process_type: 'web',
    });
    assert.match(instanceGuid, /^[0-9a-f-]{36}$/);
    assert.deepEqual(rest, [
      '.profile',
      '.profile.d',
      'app',
      'deps',
      'profile.d',
      'tmp',
      'export APP_PROFILE_LOADED=yes',
      'export APP_DOT_PROFILE=yes',
      'export BUILDPACK_PROFILE_LOADED=yes',
    ]);
  });

  it('relays a PTY shell with window changes, and the client answers the keepalives it asks for', async () => {
    await visitor.control('PUT', '/foundation/settings', { keepalive_seconds: 0.1 });
    try {
      const client = await login('demo-app', 0);
      const username = `cf:${visitor.processGuid('demo-app')}/0`;
      const result = await new Promise<Exec>((resolve, reject) => {
        client.shell({ term: 'xterm-256color', rows: 24, cols: 80 }, (err, channel) => {
          if (err) return reject(err);
          const result: Exec = { stdout: '', stderr: '', code: null };
          channel.on('data', (data: Buffer) => (result.stdout += data));
          channel.on('exit', (code: number) => (result.code = code));
          channel.once('close', () => resolve(result));
          void until('keepalives answered', async () => (await visitor.log()).filter((e) => e.event === 'keepalive' && e.username === username).length >= 2 || undefined).then(
            () => {
              channel.setWindow(30, 100, 0, 0);
              channel.write('tty; echo "term=$TERM"; stty size; exit 7\n');
            },
            reject,
          );
        });
      });
      assert.equal(result.code, 7);
      assert.match(result.stdout, /\/dev\/pts\/\d+/);
      assert.match(result.stdout, /term=xterm-256color/);
      assert.match(result.stdout, /30 100/);
      const keepalives = (await visitor.log()).filter((e) => e.event === 'keepalive' && e.username === username);
      // ssh2 answers requests it does not know with failure: an answer all the same.
      assert.ok(
        keepalives.every((e) => e.detail === 'failure'),
        JSON.stringify(keepalives),
      );
    } finally {
      await visitor.control('PUT', '/foundation/settings', { keepalive_seconds: 15 });
    }
  });

  it('sends no keepalives on sessions without a PTY, and logs the global requests clients send', async () => {
    await visitor.control('DELETE', '/foundation/ssh/log');
    await visitor.control('PUT', '/foundation/settings', { keepalive_seconds: 0.05 });
    try {
      const client = await login('demo-app', 0, 'developer', { keepaliveInterval: 50 });
      const username = `cf:${visitor.processGuid('demo-app')}/0`;
      assert.equal((await run(client, 'sleep 0.3; echo done')).stdout, 'done\n');
      const mine = (await visitor.log()).filter((e) => e.username === username && e.event !== 'accepted' && e.event !== 'rejected');
      assert.ok(mine.length > 0 && mine.every((e) => e.event === 'global-request' && e.detail === 'keepalive@openssh.com'), JSON.stringify(mine));
    } finally {
      await visitor.control('PUT', '/foundation/settings', { keepalive_seconds: 15 });
    }
  });

  it('forwards TCP from the instance side (direct-tcpip) and passes on why a connection failed', async () => {
    const echo = await echoServer();
    const closedPort = await freePort();
    try {
      const client = await login('demo-app', 0);
      const reply = await new Promise<string>((resolve, reject) => {
        client.forwardOut('0.0.0.0', 0, 'localhost', echo.port, (err, channel) => {
          if (err) return reject(err);
          let data = '';
          channel.on('data', (chunk: Buffer) => (data += chunk));
          channel.once('close', () => resolve(data));
          channel.end('ping through the tunnel');
        });
      });
      assert.equal(reply, 'ping through the tunnel');
      const refused = await new Promise<Error>((resolve) => client.forwardOut('0.0.0.0', 0, '127.0.0.1', closedPort, (err) => resolve(err!)));
      assert.match(refused.message, /Connection refused/);
      assert.equal((refused as Error & { reason?: number }).reason, 2);
    } finally {
      echo.close();
    }
  });

  it('forwards TCP from the instance back to the client (tcpip-forward)', async () => {
    const client = await login('demo-app', 0);
    client.on('tcp connection', (_info, accept) => {
      const channel = accept();
      channel.on('data', (data: Buffer) => channel.end(`back: ${data.toString()}`));
    });
    const port = await new Promise<number>((resolve, reject) => client.forwardIn('127.0.0.1', 0, (err, bound) => (err ? reject(err) : resolve(bound))));
    const socket = net.connect(port, '127.0.0.1');
    socket.end('hello');
    let answer = '';
    for await (const chunk of socket) answer += chunk;
    assert.equal(answer, 'back: hello');
  });

  it('relays the sftp subsystem to the instance', async () => {
    const client = await login('demo-app', 0);
    const sftp = await new Promise<ssh2.SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
    const names = await new Promise<string[]>((resolve, reject) => sftp.readdir('.', (err, list) => (err ? reject(err) : resolve(list.map((e) => e.filename)))));
    assert.deepEqual(names.filter((name) => !name.startsWith('.')).sort(), ['app', 'deps', 'profile.d', 'tmp']);
    await new Promise<void>((resolve, reject) => sftp.writeFile('tmp/hello.txt', 'from sftp', (err) => (err ? reject(err) : resolve())));
    assert.equal((await run(client, 'cat tmp/hello.txt')).stdout, 'from sftp');
  });

  it('takes a code once', async () => {
    const username = `cf:${visitor.processGuid('demo-app')}/0`;
    const code = await visitor.code();
    clients.push(await visitor.connect(username, code));
    await visitor.assertRefused(username, code, /UAA refused the code \(400 invalid_grant\)/);
  });

  it('refuses, as an authentication failure, whoever CC or Diego would not let in, and logs why', async () => {
    const user = (app: string, index = 0, type = 'web') => `cf:${visitor.processGuid(app, type)}/${index}`;
    await visitor.assertRefused(user('demo-app'), await visitor.code('auditor'), /auditor is neither admin nor a SpaceDeveloper of space demo-space/);
    await visitor.assertRefused(user('demo-app'), await visitor.code('manager'), /manager is neither admin nor a SpaceDeveloper/);
    await visitor.assertRefused(user('no-ssh-app'), await visitor.code(), /SSH for app no-ssh-app: ssh is disabled for app$/);
    await visitor.assertRefused(user('locked-app'), await visitor.code(), /SSH for app locked-app: ssh is disabled for space 'locked-space'$/);
    await visitor.assertRefused(user('stopped-app'), await visitor.code(), /app stopped-app is STOPPED/);
    await visitor.assertRefused(user('demo-app', 2), await visitor.code(), /instance 2 of process web of app demo-app not found/);
    await visitor.assertRefused(user('demo-app', 1, 'worker'), await visitor.code(), /instance 1 of process worker of app demo-app not found/);
    await visitor.assertRefused('cf:00000000-0000-0000-0000-000000000000/0', await visitor.code(), /process 00000000-0000-0000-0000-000000000000 not found/);
    await visitor.assertRefused('developer', await visitor.code(), /user name 'developer' is not cf:<process-guid>\/<index>/);
    await visitor.assertRefused(`cf:${visitor.processGuid('demo-app')}/x`, await visitor.code(), /is not cf:<process-guid>\/<index>/);
    await visitor.assertRefused(user('demo-app'), 'not-a-code', /UAA refused the code/);

    await visitor.control('PUT', '/foundation/global-ssh', { enabled: false });
    try {
      await visitor.assertRefused(user('demo-app'), await visitor.code(), /SSH for app demo-app: ssh is disabled globally$/);
    } finally {
      await visitor.control('PUT', '/foundation/global-ssh', { enabled: true });
    }
    clients.push(await visitor.login('demo-app', 0, 'admin'));
  });

  it('refuses a crashed instance, whose sessions end with its container, and shows its state in stats', async () => {
    const client = await login('demo-app', 1);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    await visitor.control('PUT', '/foundation/instances', { app: 'demo-app', process: 'web', index: 1, state: 'CRASHED' });
    try {
      await closed;
      const username = `cf:${visitor.processGuid('demo-app')}/1`;
      await visitor.assertRefused(username, await visitor.code(), /instance 1 of process web of app demo-app is CRASHED/);
      const admin = foundation.world.userByName('admin')!;
      const token = foundation.tokens.issue(admin, 'password', 'cf', false).access_token;
      const stats = await fetch(`${foundation.url}/v3/processes/${visitor.processGuid('demo-app')}/stats`, { headers: { Authorization: `bearer ${token}` } });
      const { resources } = (await stats.json()) as { resources: { index: number; state: string }[] };
      assert.deepEqual(
        resources.map((r) => r.state),
        ['RUNNING', 'CRASHED'],
      );
    } finally {
      await visitor.control('PUT', '/foundation/instances', { app: 'demo-app', process: 'web', index: 1, state: 'RUNNING' });
    }
    const restarted = await login('demo-app', 1);
    assert.equal((await run(restarted, 'echo $CF_INSTANCE_INDEX')).stdout, '1\n');
  });

  it('drops every client connection on POST /foundation/ssh/drop', async () => {
    const client = await login('demo-app', 0);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    client.on('error', () => undefined);
    await visitor.control('POST', '/foundation/ssh/drop');
    await closed;
  });

  it('speaks as diego-ssh-proxy with its algorithms only, and publishes its host key in every format cf reads', async () => {
    const banner = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(visitor.port, '127.0.0.1');
      socket.once('error', reject);
      readline.createInterface({ input: socket }).once('line', (line) => {
        socket.destroy();
        resolve(line);
      });
    });
    assert.equal(banner, 'SSH-2.0-diego-ssh-proxy');

    let hostKey: Buffer | undefined;
    let negotiated: ssh2.NegotiatedAlgorithms | undefined;
    const client = await visitor.login('demo-app', 0, 'developer', {
      hostVerifier: (key: Buffer) => {
        hostKey = key;
        return true;
      },
    });
    clients.push(client);
    client.end();
    assert.ok(hostKey);
    const digest = (algorithm: string) => createHash(algorithm).update(hostKey!).digest();
    const colonHex = (bytes: Buffer) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
    const expected = {
      'sha256-base64': digest('sha256').toString('base64').replace(/=+$/, ''),
      'sha256-hex': digest('sha256').toString('hex'),
      sha1: colonHex(digest('sha1')),
      md5: colonHex(digest('md5')),
    };
    const published = async () => {
      const root = (await (await fetch(`${foundation.url}/`)).json()) as { links: { app_ssh: { href: string; meta: Record<string, string> } } };
      return root.links.app_ssh;
    };
    const link = await published();
    assert.equal(link.href, `127.0.0.1:${visitor.port}`);
    assert.equal(link.meta.oauth_client, 'ssh-proxy');
    assert.equal(link.meta.host_key_fingerprint, expected['sha256-base64'], 'base64 SHA-256 by default');
    try {
      for (const [format, fingerprint] of Object.entries(expected)) {
        await visitor.control('PUT', '/foundation/settings', { fingerprint_format: format });
        assert.equal((await published()).meta.host_key_fingerprint, fingerprint, format);
      }
      assert.deepEqual(
        Object.values(expected).map((f) => f.length),
        [43, 64, 59, 47],
      );
      await visitor.control('PUT', '/foundation/settings', { fingerprint_format: 'wrong' });
      const wrong = (await published()).meta.host_key_fingerprint ?? '';
      assert.match(wrong, /^[A-Za-z0-9+/]{43}$/);
      assert.notEqual(wrong, expected['sha256-base64']);
    } finally {
      await visitor.control('PUT', '/foundation/settings', { fingerprint_format: 'sha256-base64' });
    }

    // A client that prefers stronger or other algorithms gets Diego's.
    const picky = await visitor.login(
      'demo-app',
      0,
      'developer',
      {
        algorithms: {
          kex: ['ecdh-sha2-nistp256', 'diffie-hellman-group14-sha256', 'curve25519-sha256@libssh.org'],
          cipher: ['chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com', 'aes128-gcm@openssh.com'],
          hmac: ['hmac-sha2-512', 'hmac-sha2-256-etm@openssh.com'],
        },
      },
      (client) => client.on('handshake', (algorithms) => (negotiated = algorithms)),
    );
    clients.push(picky);
    assert.equal(negotiated?.kex, 'curve25519-sha256@libssh.org');
    assert.equal(negotiated?.serverHostKey, 'ssh-ed25519');
    assert.equal(negotiated?.cs.cipher, 'aes128-gcm@openssh.com');
    assert.equal(negotiated?.sc.cipher, 'aes128-gcm@openssh.com');
    const weak = visitor.login('demo-app', 0, 'developer', { algorithms: { cipher: ['aes128-cbc', '3des-cbc'] } });
    await assert.rejects(weak, /no matching C->S cipher/);
  });

  it('lets OpenSSH clients in: ssh, sftp and scp', { skip: !SSH_CLIENT && 'no OpenSSH client' }, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-askpass-'));
    try {
      const openssh = async (command: string, args: string[], input?: string) => {
        // The one-time code is the password; SSH_ASKPASS hands it over without a terminal.
        const askpass = path.join(dir, 'askpass.sh');
        writeFileSync(askpass, `#!/bin/sh\necho '${await visitor.code()}'\n`, { mode: 0o700 });
        const child = spawn(
          command,
          [
            '-F',
            '/dev/null',
            '-o',
            'StrictHostKeyChecking=no',
            '-o',
            'UserKnownHostsFile=/dev/null',
            '-o',
            'LogLevel=ERROR',
            '-o',
            'PreferredAuthentications=password',
            '-o',
            'NumberOfPasswordPrompts=1',
            // scp and sftp would take the colon in cf:GUID/0@host for the end of a host name.
            '-o',
            `User=cf:${visitor.processGuid('demo-app')}/0`,
            ...args,
          ],
          { env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' }, stdio: ['pipe', 'pipe', 'pipe'], detached: true },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.stdin.end(input);
        const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 15_000);
        const code = await new Promise((resolve) => child.once('close', resolve));
        clearTimeout(timer);
        return { code, stdout, stderr };
      };
      const target = '127.0.0.1';
      const port = String(visitor.port);

      const ssh = await openssh('ssh', ['-p', port, target, 'echo "index=$CF_INSTANCE_INDEX"; exit 5']);
      assert.deepEqual(ssh, { code: 5, stdout: 'index=0\n', stderr: '' });

      const local = path.join(dir, 'local.txt');
      writeFileSync(local, 'copied with scp\n');
      const scp = await openssh('scp', ['-P', port, local, `${target}:tmp/scp.txt`]);
      assert.equal(scp.code, 0, scp.stderr);
      const legacyScp = await openssh('scp', ['-O', '-P', port, `${target}:tmp/scp.txt`, path.join(dir, 'back.txt')]);
      assert.equal(legacyScp.code, 0, legacyScp.stderr);
      assert.equal(readFileSync(path.join(dir, 'back.txt'), 'utf8'), 'copied with scp\n');

      // Commands on stdin, not with -b, which turns on BatchMode and so off passwords.
      const sftp = await openssh('sftp', ['-P', port, target], 'cd app\npwd\nls -a\n');
      assert.equal(sftp.code, 0, sftp.stderr);
      assert.match(sftp.stdout, /\.profile\.d/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SSH proxy into the built-in backend', { timeout: 30_000 }, () => {
  let foundation: Foundation;
  let visitor: Visitor;

  before(async () => {
    foundation = await startFoundation({ sshBackend: 'builtin' });
    visitor = new Visitor(foundation);
  });
  after(() => foundation.stop());

  it('runs commands with the same environment, exit status and signals, and forwards TCP', async () => {
    const client = await visitor.login('demo-app', 1);
    try {
      const [index, pwd, home = '', lang] = (await run(client, 'echo "$CF_INSTANCE_INDEX|$PWD|$HOME|$LANG"')).stdout.trimEnd().split('|');
      assert.deepEqual([index, pwd, lang], ['1', home, 'en_US.UTF8']);
      assert.match(home, /\/home\/vcap$/);
      assert.equal((await run(client, 'exit 3')).code, 3);
      assert.equal((await run(client, 'kill -TERM $$')).signal, 'SIGTERM');
      assert.equal(JSON.parse((await run(client, 'echo "$VCAP_APPLICATION"')).stdout).application_name, 'demo-app');
      const echo = await echoServer();
      try {
        const reply = await new Promise<string>((resolve, reject) => {
          client.forwardOut('0.0.0.0', 0, '127.0.0.1', echo.port, (err, channel) => {
            if (err) return reject(err);
            let data = '';
            channel.on('data', (chunk: Buffer) => (data += chunk));
            channel.once('close', () => resolve(data));
            channel.end('ping');
          });
        });
        assert.equal(reply, 'ping');
      } finally {
        echo.close();
      }
      const backends = await visitor.control<{ kind: string }[]>('GET', '/foundation/ssh/backends');
      assert.deepEqual(
        backends.map((b) => b.kind),
        ['builtin'],
      );
    } finally {
      client.end();
    }
  });
});

describe('SSH proxy of an HTTPS foundation', { timeout: 30_000 }, () => {
  it('redeems codes with its UAA over HTTPS, trusting its certificate', async () => {
    const foundation = await startFoundation({ https: true, sshBackend: 'builtin' });
    const visitor = new Visitor(foundation);
    try {
      const developer = foundation.world.userByName('developer')!;
      const code = foundation.tokens.newCode(developer.guid, 'ssh-proxy');
      const client = await visitor.connect(`cf:${visitor.processGuid('demo-app')}/0`, code).catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(foundation.ssh!.proxy.log)}`);
      });
      client.on('error', () => undefined);
      client.end();
      assert.deepEqual(
        foundation.ssh!.proxy.log.map((e) => [e.event, e.detail]),
        [['accepted', 'developer']],
      );
    } finally {
      await foundation.stop();
    }
  });
});

describe('npm run foundation with SSH', { skip: !OPENSSH && 'OpenSSH sshd is not installed', timeout: 30_000 }, () => {
  it('prints ssh=HOST:PORT, publishes it, and stops its sshd backends on SIGTERM', async () => {
    const child = spawn(process.execPath, [FOUNDATION_MAIN, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = (stream: NodeJS.ReadableStream, pattern: RegExp) =>
        new Promise<string>((resolve, reject) => {
          readline.createInterface({ input: stream }).on('line', (l) => {
            const match = pattern.exec(l);
            if (match?.[1]) resolve(match[1]);
          });
          child.once('exit', (code) => reject(new Error(`foundation exited with ${code}`)));
        });
      const [url, sshAddress] = await Promise.all([line(child.stdout, /^api=(.+)$/), line(child.stderr, /^ssh=(127\.0\.0\.1:\d+)$/)]);
      const root = (await (await fetch(`${url}/`)).json()) as { links: { app_ssh: { href: string } } };
      assert.equal(root.links.app_ssh.href, sshAddress);

      const state = (await (await fetch(`${url}/foundation/state`)).json()) as { apps: { name: string; guid: string }[] };
      const guid = state.apps.find((a) => a.name === 'demo-app')!.guid;
      const tokenResponse = await fetch(`${url}/uaa/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: `Basic ${Buffer.from('cf:').toString('base64')}` },
        body: 'grant_type=password&username=developer&password=developer-pass',
      });
      const { access_token } = (await tokenResponse.json()) as { access_token: string };
      const authorize = await fetch(`${url}/uaa/oauth/authorize?client_id=ssh-proxy&response_type=code`, {
        headers: { Authorization: `bearer ${access_token}` },
        redirect: 'manual',
      });
      const code = new URL(authorize.headers.get('location')!).searchParams.get('code')!;
      const client = await new Promise<ssh2.Client>((resolve, reject) => {
        const c = new ssh2.Client();
        c.once('ready', () => resolve(c));
        c.once('error', reject);
        c.connect({ host: '127.0.0.1', port: Number(sshAddress.split(':')[1]), username: `cf:${guid}/0`, password: code });
      });
      client.on('error', () => undefined);
      assert.equal((await run(client, 'echo up')).stdout, 'up\n');
      const [backend] = (await (await fetch(`${url}/foundation/ssh/backends`)).json()) as { pid: number }[];
      const pid = backend?.pid ?? 0;
      assert.ok(pid > 0);

      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'sshd is gone');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
