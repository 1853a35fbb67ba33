// `tunnel` end to end: the built CLI holds -L listeners open while the foundation's SSH proxy
// drops, freezes, goes away and comes back, and stops for good only when a person must act.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { BIN, loggedIn, tempHome } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';
import { echoServer, freePort, listening, roundTrip } from '../helpers/net.js';
import type { SshLogEntry } from '../foundation/ssh-proxy.js';

const run = promisify(execFile);

interface RunningTunnel {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed so far (stdout and stderr together, as a person sees them). */
  output(): string;
  /** The first match of `pattern` in the output from `from` on, waiting for it. */
  waitFor(pattern: RegExp, from?: number): Promise<RegExpExecArray>;
  /** How the process ended: its exit code or the signal it died of. */
  exited: Promise<number | NodeJS.Signals | null>;
}

function startTunnel(home: string, args: string[], env: Record<string, string> = {}): RunningTunnel {
  const child = spawn(process.execPath, [BIN, 'tunnel', ...args], {
    env: { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const heard = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout.on('data', heard);
  child.stderr.on('data', heard);
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const waitFor = (pattern: RegExp, from = 0) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(output.slice(from));
        if (!match) return;
        done();
        resolve(match);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} within 40 s; tunnel said:\n${output}`));
      }, 40_000);
      const ended = () => {
        done();
        reject(new Error(`tunnel exited before ${pattern}; it said:\n${output}`));
      };
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
        child.removeListener('exit', ended);
      };
      listeners.add(check);
      child.once('exit', ended);
      check();
    });
  return { child, output: () => output, waitFor, exited };
}

/** A local connection through the tunnel, kept open after one echo: one in flight. */
async function openEchoed(port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  socket.write('ping');
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  return { socket, closed };
}

describe('tunnel: forwards that heal themselves', () => {
  let foundation: RunningFoundation;
  let developer: string;
  let echo: { port: number; close(): void };

  before(async () => {
    foundation = await startFoundationProcess();
    developer = await loggedIn(foundation.url);
    echo = await echoServer();
  });
  after(async () => {
    echo.close();
    await foundation.stop();
  });

  /** A tunnel to the echo server, up and carrying data. */
  async function echoTunnel(home: string, env: Record<string, string> = {}): Promise<{ tunnel: RunningTunnel; port: number }> {
    const port = await freePort();
    const tunnel = startTunnel(home, ['demo-app', '-L', `${port}:127.0.0.1:${echo.port}`], env);
    await tunnel.waitFor(/Press Ctrl-C to close them\.\n/);
    assert.equal((await roundTrip(port, Buffer.from('before'))).toString(), 'before');
    return { tunnel, port };
  }

  it('a dropped connection: the one in flight fails, the tunnel reconnects with a fresh code, Ctrl-C ends it and closes the port', async () => {
    const { tunnel, port } = await echoTunnel(developer);
    try {
      assert.match(tunnel.output(), /^connected to demo-app\/0\nForwarding 127\.0\.0\.1:\d+ to 127\.0\.0\.1:\d+\n/m);
      const inFlight = await openEchoed(port);
      const mark = tunnel.output().length;
      await foundation.control('DELETE', '/foundation/ssh/log');
      await foundation.control('POST', '/foundation/ssh/drop');
      await tunnel.waitFor(/^lost: (reset|closed by the other end); 1 connection in flight cut; reconnecting in 1 s\n/m, mark);
      await inFlight.closed;
      await tunnel.waitFor(/^reconnected after 1 try\n/m, mark);
      const logins = (await foundation.control<SshLogEntry[]>('GET', '/foundation/ssh/log')).filter((e) => e.event === 'accepted' || e.event === 'rejected');
      assert.deepEqual(
        logins.map((e) => e.event),
        ['accepted'],
        'one login, with a new one-time code (a code is good for one login only)',
      );
      assert.equal((await roundTrip(port, Buffer.from('after'))).toString(), 'after');
    } finally {
      tunnel.child.kill('SIGINT');
    }
    assert.equal(await tunnel.exited, 'SIGINT', 'cleaned up, then dead of Ctrl-C, as ssh -N');
    assert.equal(await listening(port), false, 'the local port is closed');
  });

  it('a connection that stops answering is noticed by its keepalives and replaced', async () => {
    const { tunnel, port } = await echoTunnel(developer, { CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' });
    try {
      const mark = tunnel.output().length;
      await foundation.control('POST', '/foundation/ssh/freeze');
      await tunnel.waitFor(/^lost: no answer to 3 keepalives 1 s apart; reconnecting in 1 s\n/m, mark);
      await tunnel.waitFor(/^reconnected after 1 try\n/m, mark);
      assert.equal((await roundTrip(port, Buffer.from('thawed'))).toString(), 'thawed');
    } finally {
      tunnel.child.kill('SIGINT');
    }
    assert.equal(await tunnel.exited, 'SIGINT');
  });

  it('the proxy away for a while: retries back off, a connection made meanwhile waits and goes through once it is back', async () => {
    const { tunnel, port } = await echoTunnel(developer);
    try {
      const mark = tunnel.output().length;
      await foundation.control('POST', '/foundation/ssh/down');
      await tunnel.waitFor(/^try 1 failed: Cannot reach the SSH endpoint 127\.0\.0\.1:\d+: connection refused; reconnecting in [23] s\n/m, mark);
      const waiting = roundTrip(port, Buffer.from('waited'));
      await foundation.control('POST', '/foundation/ssh/up');
      const [, tries] = await tunnel.waitFor(/^reconnected after (\d+) tries\n/m, mark);
      assert.ok(Number(tries) >= 2, `${tries} tries`);
      assert.equal((await waiting).toString(), 'waited', 'the connection made while down waited for the reconnect');
    } finally {
      await foundation.control('POST', '/foundation/ssh/up');
      tunnel.child.kill('SIGINT');
    }
    assert.equal(await tunnel.exited, 'SIGINT');
  });

  it('an instance that restarts: retried while it is not running, reconnected once it runs', async () => {
    const port = await freePort();
    const tunnel = startTunnel(developer, ['demo-app', '-i', '1', '-L', `${port}:127.0.0.1:${echo.port}`]);
    const instance = (state: string) => foundation.control('PUT', '/foundation/instances', { app: 'demo-app', index: 1, state });
    try {
      await tunnel.waitFor(/Press Ctrl-C to close them\.\n/);
      const mark = tunnel.output().length;
      await instance('STARTING');
      await tunnel.waitFor(/^try 1 failed: Instance 1 of process web not running: it is STARTING; reconnecting in [23] s\n/m, mark);
      await instance('RUNNING');
      await tunnel.waitFor(/^reconnected after \d+ tries\n/m, mark);
      assert.equal((await roundTrip(port, Buffer.from('restarted'))).toString(), 'restarted');
    } finally {
      await instance('RUNNING');
      tunnel.child.kill('SIGINT');
    }
    assert.equal(await tunnel.exited, 'SIGINT');
  });

  it('Ctrl-C while it waits to reconnect ends it at once', async () => {
    const { tunnel, port } = await echoTunnel(developer);
    try {
      const mark = tunnel.output().length;
      await foundation.control('POST', '/foundation/ssh/down');
      await tunnel.waitFor(/^lost: .*; reconnecting in 1 s\n/m, mark);
      const started = Date.now();
      tunnel.child.kill('SIGINT');
      assert.equal(await tunnel.exited, 'SIGINT');
      assert.ok(Date.now() - started < 3000, 'no retry waited for');
      assert.equal(await listening(port), false, 'the local port is closed');
    } finally {
      await foundation.control('POST', '/foundation/ssh/up');
    }
  });

  it('--service: the TLS bridge to a bound Postgres, details printed once; psql verifies the printed CA file, before and after a drop', async () => {
    const tmp = tempHome();
    const tunnel = startTunnel(developer, ['db-app', '--service', 'demo-pg-tls', '--show-password'], { TMPDIR: tmp });
    try {
      await tunnel.waitFor(/Press Ctrl-C to close them\.\n/);
      assert.match(tunnel.output(), /^ {2}tls: {7}required; the link to the service is verified against its real name, localhost, with the service's own CA$/m);
      const url = /^\s+url:\s+(\S+)$/m.exec(tunnel.output())?.[1] ?? '';
      assert.match(url, /\?sslmode=verify-full&sslrootcert=[^&]+ca\.pem/);
      const sslInUse = async () =>
        (await run('psql', [url, '-tAc', 'select ssl from pg_stat_ssl where pid = pg_backend_pid()'], { env: { PATH: process.env.PATH } })).stdout.trim();
      assert.equal(await sslInUse(), 't');
      const mark = tunnel.output().length;
      await foundation.control('POST', '/foundation/ssh/drop');
      await tunnel.waitFor(/^reconnected after 1 try\n/m, mark);
      assert.equal(await sslInUse(), 't', 'the same url and CA file work after the reconnect');
      assert.equal(tunnel.output().match(/^Tunnel to demo-pg-tls \(postgres\) is open:$/gm)?.length, 1, 'the details did not change: printed once');
    } finally {
      tunnel.child.kill('SIGINT');
    }
    assert.equal(await tunnel.exited, 'SIGINT');
    assert.deepEqual(readdirSync(tmp), [], 'the CA file and its folder are removed');
  });

  it('--service --local-port: the service listens where asked, and its url says so', async () => {
    const port = await freePort();
    const tunnel = startTunnel(developer, ['db-app', '--service', 'demo-pg', '--local-port', String(port), '--show-password']);
    try {
      await tunnel.waitFor(/Press Ctrl-C to close them\.\n/);
      const url = /^\s+url:\s+(\S+)$/m.exec(tunnel.output())?.[1] ?? '';
      assert.equal(new URL(url).port, String(port));
      assert.equal((await run('psql', [url, '-tAc', 'select 6 * 7'], { env: { PATH: process.env.PATH } })).stdout.trim(), '42');
    } finally {
      tunnel.child.kill('SIGINT');
    }
    assert.equal(await tunnel.exited, 'SIGINT');
    assert.equal(await listening(port), false, 'the local port is closed');
  });

  it('--service --local-port taken: one line naming --local-port, exit 1, the SSH connection closed', async () => {
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const tunnel = startTunnel(developer, ['db-app', '--service', 'demo-pg', '--local-port', String(port)]);
      assert.equal(await tunnel.exited, 1, tunnel.output());
      assert.match(tunnel.output(), new RegExp(`^Cannot listen on 127\\.0\\.0\\.1:${port} for --local-port: the port is in use\\.\nFAILED\n$`, 'm'));
      assert.equal(await listening(port), true, 'the port’s owner still has it');
    } finally {
      squatter.close();
    }
  });

  it('a revoked login stops it with a clear message instead of retrying forever', async () => {
    const admin = await loggedIn(foundation.url, 'admin');
    const { tunnel, port } = await echoTunnel(admin);
    await foundation.control('POST', '/foundation/expire-access-tokens', { user: 'admin' });
    await foundation.control('POST', '/foundation/revoke-refresh-tokens', { user: 'admin' });
    await foundation.control('POST', '/foundation/ssh/drop');
    assert.equal(await tunnel.exited, 1, tunnel.output());
    assert.match(
      tunnel.output(),
      /^lost: .*; reconnecting in 1 s\nCannot reconnect to demo-app\/0, so the tunnels are closed: The token expired, was revoked, or the token ID is incorrect\. Please log back in to re-authenticate\.\nFAILED\n$/m,
    );
    assert.equal(tunnel.output().match(/^lost:|^try \d+ failed/gm)?.length, 1, 'one try, no more');
    assert.equal(await listening(port), false, 'the local port is closed');
  });
});
