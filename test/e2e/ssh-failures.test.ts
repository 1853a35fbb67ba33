// Connections that fail under the CLI: each run must end with one line that names the loss,
// exit 255, within a bound, and leave nothing behind (a service key of its own making).
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { cli, loggedIn } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';

/**
 * An HTTP CONNECT proxy that cuts every tunnel: at once (`cutAfter` 0: nothing of SSH is
 * exchanged), or once the client has sent that many bytes (its banner and key-exchange
 * offer: the connection dies in the middle of the key exchange).
 */
async function cuttingProxy(cutAfter: number): Promise<{ url: string; tunnels: () => number; close(): void }> {
  let tunnels = 0;
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: net.Socket) => {
    tunnels += 1;
    if (cutAfter === 0) return void client.end('HTTP/1.1 200 Connection Established\r\n\r\n');
    const [host = '', port = ''] = (req.url ?? '').split(':');
    const upstream = connect(Number(port), host, () => client.write('HTTP/1.1 200 Connection Established\r\n\r\n'));
    sockets.add(client).add(upstream);
    let sent = 0;
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('data', (chunk: Buffer) => {
      sent += chunk.length;
      upstream.write(chunk);
      if (sent >= cutAfter) {
        client.destroy();
        upstream.destroy();
      }
    });
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels: () => tunnels,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

const LOST_IN_HANDSHAKE = /^Connection to the app instance was lost (before|during) the SSH handshake \(closed by the other end\)\.$/m;

describe('lost connections', () => {
  let foundation: RunningFoundation;
  let developer: string;
  let atOnce: Awaited<ReturnType<typeof cuttingProxy>>;
  let inKeyExchange: Awaited<ReturnType<typeof cuttingProxy>>;

  before(async () => {
    [foundation, atOnce, inKeyExchange] = await Promise.all([startFoundationProcess(['--databases', 'postgres']), cuttingProxy(0), cuttingProxy(200)]);
    developer = await loggedIn(foundation.url);
  });
  after(async () => {
    atOnce.close();
    inKeyExchange.close();
    await foundation.stop();
  });

  for (const [when, args] of [
    ['at once', ['ssh', 'demo-app', '-c', 'echo ran']],
    ['in the key exchange', ['ssh', 'demo-app', '-c', 'echo ran']],
    ['in the key exchange', ['ssh', 'demo-app', '-N', '-L', '0:localhost:8080']],
  ] as const) {
    it(`${args.join(' ')}: a connection cut ${when} exits 255, never 0`, async () => {
      const proxy = when === 'at once' ? atOnce : inKeyExchange;
      const started = Date.now();
      const r = await cli(developer, [...args], { env: { https_proxy: proxy.url } });
      assert.equal(r.code, 255, r.stderr);
      assert.match(r.stderr, LOST_IN_HANDSHAKE);
      assert.doesNotMatch(r.stderr, /Tunnels are open|\n\s+at /);
      assert.equal(r.stdout, 'FAILED\n', 'nothing ran');
      assert.ok(Date.now() - started < 15_000, 'fails promptly');
      assert.ok(proxy.tunnels() > 0, 'the SSH dial went through the closing proxy');
    });
  }

  it('connect-to-service --credentials key: the same loss exits 255 and deletes the key it made', async () => {
    const r = await cli(developer, ['connect-to-service', 'db-app', 'demo-pg', '--credentials', 'key', '--no-client'], { env: { https_proxy: inKeyExchange.url } });
    assert.equal(r.code, 255, r.stderr);
    assert.match(r.stderr, LOST_IN_HANDSHAKE);
    const keys = await foundation.control<{ name: string }[]>('GET', '/foundation/service-keys');
    assert.deepEqual(
      keys.filter((k) => k.name.startsWith('cf-ssh-tools-')),
      [],
      'no service key left behind',
    );
  });

  it('ssh -N: a connection that stops answering after it was up ends with one line and exit 255, no stack trace', async () => {
    const child = cli(developer, ['ssh', 'demo-app', '-N', '-L', '0:localhost:8080'], { env: { CF_SSH_TOOLS_KEEPALIVE_SECONDS: '1' }, timeoutMs: 30_000 });
    // Freeze only once the tunnel is up: the proxy's log shows our connection accepted.
    await foundation.control('DELETE', '/foundation/ssh/log');
    for (let tries = 0; tries < 100; tries += 1) {
      const log = await foundation.control<{ event: string }[]>('GET', '/foundation/ssh/log');
      if (log.some((e) => e.event === 'accepted')) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await foundation.control('POST', '/foundation/ssh/freeze');
    const r = await child;
    assert.equal(r.code, 255, r.stderr);
    assert.match(r.stderr, /^Connection to the app instance was lost/m);
    assert.doesNotMatch(r.stderr, /\n\s+at |Error: Keepalive timeout/);
  });
});
