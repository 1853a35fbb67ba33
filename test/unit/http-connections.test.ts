// HTTP connections over TLS within one run: API and UAA requests to a host go over one kept-alive
// connection, a further connection to that host resumes the TLS session instead of a full
// handshake, and the kept-alive connections never hold a finished process open.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import dc from 'node:diagnostics_channel';
import { rmSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import tls, { type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../../src/net/http.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { ROOT } from '../helpers/foundation.js';
import { runCli, tempHome } from '../helpers/run-cli.js';

interface Connection {
  requests: string[];
  /** Opened after a TLS session to its host was established: it could resume one. */
  openedAfterASession: boolean;
  resumed?: boolean;
}

/** Watches this process's HTTP client requests (diagnostics_channel) and the TLS connections they use. */
function watchConnections(): { connections: Map<TLSSocket, Connection>; stop(): void } {
  const connections = new Map<TLSSocket, Connection>();
  let sessionSeen = false;
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    // The agent may have handed the request its socket already.
    const onSocket = (socket: unknown) => {
      const tls = socket as TLSSocket;
      const known = connections.get(tls);
      if (known) return known.requests.push(`${request.method} ${request.path}`);
      const connection: Connection = { requests: [`${request.method} ${request.path}`], openedAfterASession: sessionSeen };
      connections.set(tls, connection);
      tls.once('secureConnect', () => {
        connection.resumed = tls.isSessionReused();
      });
      tls.once('session', () => {
        sessionSeen = true;
      });
    };
    if (request.socket) onSocket(request.socket);
    else request.once('socket', onSocket);
  };
  dc.subscribe('http.client.request.start', onStart);
  return { connections, stop: () => dc.unsubscribe('http.client.request.start', onStart) };
}

describe('HTTP connections over TLS', () => {
  let foundation: Foundation;
  const homes: string[] = [];

  before(async () => {
    foundation = await startFoundation({ ssh: false, https: true });
  });
  after(async () => {
    await foundation.stop();
    for (const home of homes) rmSync(home, { recursive: true, force: true });
  });

  it('requests one after another share one connection; a second connection resumes the TLS session', async () => {
    const client = new HttpClient({ sslDisabled: true, userAgent: 'cf-ssh-tools-test', env: {} });
    const watch = watchConnections();
    try {
      const first = await client.send({ method: 'GET', url: `${foundation.url}/` });
      const second = await client.send({ method: 'GET', url: `${foundation.url}/uaa/login` });
      // Two at once: one takes the idle connection, the other needs a new one.
      const both = await Promise.all([client.send({ method: 'GET', url: `${foundation.url}/v3/info` }), client.send({ method: 'GET', url: `${foundation.url}/v3` })]);
      assert.deepEqual(
        [first, second, ...both].map((r) => r.status),
        [200, 200, 200, 200],
      );
    } finally {
      watch.stop();
    }
    const connections = [...watch.connections.values()];
    assert.equal(connections.length, 2, `two connections for four requests: ${JSON.stringify(connections)}`);
    const [kept, added] = connections as [Connection, Connection];
    assert.deepEqual(kept.requests.slice(0, 2), ['GET /', 'GET /uaa/login'], 'the second request went over the first connection');
    assert.equal(kept.requests.length, 3);
    assert.equal(kept.resumed, false, 'the first connection makes a full handshake');
    assert.equal(added.resumed, true, 'the second connection to the host resumes the TLS session');
  });

  it('a connection opened ahead of a request is the one the request takes', async () => {
    const client = new HttpClient({ sslDisabled: true, userAgent: 'cf-ssh-tools-test', env: {} });
    // Every TLS connection the agents open goes through tls.connect.
    const opened: unknown[] = [];
    const connect = tls.connect;
    tls.connect = ((...args: Parameters<typeof connect>) => {
      const socket = connect(...args);
      opened.push(socket);
      return socket;
    }) as typeof connect;
    const watch = watchConnections();
    try {
      client.preconnect(foundation.url);
      assert.equal(opened.length, 1, 'the connection is being opened before any request');
      const res = await client.send({ method: 'GET', url: `${foundation.url}/` });
      assert.equal(res.status, 200);
      assert.equal(opened.length, 1, 'the request opened no connection of its own');
      assert.deepEqual(
        [...watch.connections.values()].map((c) => c.requests),
        [['GET /']],
      );
      // Plain HTTP, or a proxy in the way: nothing is opened ahead.
      new HttpClient({ sslDisabled: true, userAgent: 'cf-ssh-tools-test', env: {} }).preconnect(foundation.url.replace('https:', 'http:'));
      new HttpClient({ sslDisabled: true, userAgent: 'cf-ssh-tools-test', env: { https_proxy: 'http://127.0.0.1:9' } }).preconnect(foundation.url);
      assert.equal(opened.length, 1);
    } finally {
      watch.stop();
      tls.connect = connect;
    }
  });

  it("a login's API and UAA requests reuse connections, and every later connection resumes the session", async () => {
    const home = tempHome();
    homes.push(home);
    const watch = watchConnections();
    let result;
    try {
      result = await runCli(home, ['login', '-a', foundation.url, '--skip-ssl-validation', '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space']);
    } finally {
      watch.stop();
    }
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^OK$/m);
    const connections = [...watch.connections.values()];
    const requests = connections.flatMap((c) => c.requests);
    assert.ok(requests.some((r) => r.includes('/uaa/')) && requests.some((r) => !r.includes('/uaa/')), `API and UAA requests both: ${requests.join(', ')}`);
    assert.ok(connections.length < requests.length, `${requests.length} requests over ${connections.length} connections: some were reused`);
    const later = connections.filter((c) => c.openedAfterASession);
    assert.deepEqual(
      later.map((c) => c.resumed),
      later.map(() => true),
      `each connection opened once a session was known resumed it: ${JSON.stringify(connections)}`,
    );
  });

  it('kept-alive connections, and one opened ahead but never used, do not hold the process open once its work is done', async () => {
    // The foundation keeps idle connections 75 s: a process held by one would outlive the wait below.
    const script = `
      import { HttpClient } from ${JSON.stringify(`${ROOT}/build/src/net/http.js`)};
      const client = new HttpClient({ sslDisabled: true, userAgent: 'cf-ssh-tools-test', env: {} });
      const statuses = [];
      // Opened ahead and never used: it must not hold the process either.
      client.preconnect(process.env.API.replace('127.0.0.1', 'localhost'));
      for (const path of ['/', '/uaa/login']) statuses.push((await client.send({ method: 'GET', url: process.env.API + path })).status);
      console.log(statuses.join(' '));`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { PATH: process.env.PATH, API: foundation.url }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the process did not end by itself within 15 s after its requests: ${stdout}${stderr}`));
      }, 15_000);
      child.once('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode);
      });
    });
    assert.equal(stderr, '');
    assert.equal(stdout, '200 200\n');
    assert.equal(code, 0);
  });
});
