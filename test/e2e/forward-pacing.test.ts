// -L with many connections at once into a real OpenSSH sshd behind a slow link: every byte
// comes back, and the client holds local data back while its SSH socket is busy instead of
// queueing it (ssh2 writes packets without heeding that socket's backpressure).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ssh2 from 'ssh2';
import { openForwards } from '../../src/ssh/forward.js';
import { keyOnlySshdConfig, SSHD } from '../foundation/backends.js';
import { Daemon, freePort } from '../foundation/daemons.js';
import { ed25519KeyPair } from '../foundation/ssh2-internals.js';
import { echoServer } from '../helpers/net.js';

const OPENSSH = spawnSync(SSHD, ['-V']).error === undefined;
const CONNECTIONS = 100;
const PAYLOAD = randomBytes(1 << 20);
/** What a local read can bring (libuv reads up to 64 KiB), with room for SSH framing. */
const ONE_READ = 65_536 + 1024;

/** Bytes the link to sshd carries per tick of THROTTLE_MS toward sshd: 50 MB/s, slower than loopback. */
const THROTTLE_BYTES = 512 * 1024;
const THROTTLE_MS = 10;

/** A TCP relay to 127.0.0.1:`port` that carries at most THROTTLE_BYTES per THROTTLE_MS upstream. */
async function slowLink(port: number): Promise<{ port: number; close(): void }> {
  const pairs = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    pairs.add(client).add(upstream);
    for (const end of [client, upstream]) {
      end.on('error', () => undefined);
      end.once('close', () => [client, upstream].forEach((s) => s.destroy()));
    }
    upstream.pipe(client);
    let budget = THROTTLE_BYTES;
    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      budget -= chunk.length;
      if (budget > 0) return;
      client.pause();
      setTimeout(() => {
        budget = THROTTLE_BYTES;
        client.resume();
      }, THROTTLE_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      server.close();
      pairs.forEach((s) => s.destroy());
    },
  };
}

/** Sends `payload` through the local port and resolves with what came back before the EOF. */
function echoThrough(port: number, payload: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => socket.end(payload));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', () => {
      socket.end();
      resolve(Buffer.concat(chunks));
    });
    socket.once('error', reject);
  });
}

describe('-L with many connections at once into OpenSSH over a slow link', { skip: !OPENSSH && 'OpenSSH sshd is not installed', timeout: 120_000 }, () => {
  let dir: string;
  let sshd: Daemon;
  let port: number;
  const clientKey = ed25519KeyPair();

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-pacing-'));
    const hostKey = path.join(dir, 'host_key');
    writeFileSync(hostKey, ed25519KeyPair().private, { mode: 0o600 });
    writeFileSync(path.join(dir, 'authorized_keys'), `${clientKey.public}\n`, { mode: 0o600 });
    const asRoot = process.getuid?.() === 0;
    port = await freePort();
    const config = keyOnlySshdConfig({ port, hostKey, pidFile: path.join(dir, 'sshd.pid'), authorizedKeys: path.join(dir, 'authorized_keys'), asRoot });
    writeFileSync(path.join(dir, 'sshd_config'), [...config, ''].join('\n'));
    sshd = new Daemon([SSHD, '-D', '-e', '-f', path.join(dir, 'sshd_config')], { deathSignal: 'SIGTERM' });
    await sshd.ready(
      () =>
        new Promise((resolve) => {
          const probe = net.connect(port, '127.0.0.1', () => {
            probe.destroy();
            resolve(true);
          });
          probe.once('error', () => resolve(false));
        }),
      10_000,
    );
  });

  after(async () => {
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`echoes 1 MiB on each of ${CONNECTIONS} connections, never holding more than one read per connection for the SSH socket`, async () => {
    const echo = await echoServer();
    const link = await slowLink(port);
    const transport = net.connect(link.port, '127.0.0.1');
    // What the SSH socket has taken but not yet handed to the kernel, at its largest.
    let mostQueued = 0;
    const write = transport.write.bind(transport) as (chunk: Buffer) => boolean;
    transport.write = ((chunk: Buffer) => {
      const accepted = write(chunk);
      mostQueued = Math.max(mostQueued, transport.writableLength);
      return accepted;
    }) as typeof transport.write;
    const client = new ssh2.Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', resolve);
      client.once('error', reject);
      client.connect({ sock: transport, username: os.userInfo().username, privateKey: clientKey.private, hostVerifier: () => true, readyTimeout: 10_000 });
    });
    const errors: string[] = [];
    const forwarding = await openForwards(client, [{ bindAddress: '127.0.0.1', localPort: 0, remoteHost: '127.0.0.1', remotePort: echo.port }], (message) => errors.push(message));
    const local = forwarding.listening[0]!.port;
    try {
      const echoed = await Promise.all(Array.from({ length: CONNECTIONS }, () => echoThrough(local, PAYLOAD)));
      assert.equal(echoed.filter((back) => back.equals(PAYLOAD)).length, CONNECTIONS, 'every connection got its megabyte back unchanged');
      assert.deepEqual(errors, []);
      // Unpaced, each connection's whole megabyte could wait here (the peer's window is 2 MiB).
      assert.ok(mostQueued <= CONNECTIONS * ONE_READ, `the SSH socket held ${mostQueued} bytes at most, not over ${CONNECTIONS * ONE_READ}`);
    } finally {
      forwarding.close();
      client.end();
      echo.close();
      link.close();
    }
    await new Promise<void>((resolve) => client.once('close', () => resolve()));
    const refused = await new Promise<string | undefined>((resolve) => {
      const probe = net.connect(local, '127.0.0.1', () => {
        probe.destroy();
        resolve('connected');
      });
      probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    });
    assert.equal(refused, 'ECONNREFUSED', 'the local listener is gone');
  });
});
