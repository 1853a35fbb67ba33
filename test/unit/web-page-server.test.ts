// web-ssh's page server without a browser: who gets 403 (no or a wrong token, another Host, a
// foreign Origin, an upgrade without the token), what a tab's WebSocket carries, and how it
// treats messages that are not the page's.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { PAGE_PROTOCOL, type PageServer, parseTabMessage, startPageServer, type Tab, type TabMessage, tokenMatches } from '../../src/web/page-server.js';

const TOKEN = 'x'.repeat(43);
const ASSETS = new Map([
  ['index.html', { contentType: 'text/html; charset=utf-8', body: '<!doctype html><script src="/boot.js"></script>' }],
  ['boot.js', { contentType: 'text/javascript; charset=utf-8', body: '// boot' }],
  ['xterm.js', { contentType: 'text/javascript; charset=utf-8', body: '// xterm' }],
]);

function get(port: number, urlPath: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers, method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.once('error', reject);
    req.end();
  });
}

/** A WebSocket to the server; resolves once open, rejects with the refusal's status. */
function tab(port: number, options: { origin?: string; protocols?: string[] } = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/tab`, options.protocols ?? [PAGE_PROTOCOL, `bearer.${TOKEN}`], { origin: options.origin ?? `http://127.0.0.1:${port}` });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('the web terminal’s page server', () => {
  let server: PageServer;
  const tabs: Tab[] = [];
  const messages: TabMessage[] = [];

  before(async () => {
    server = await startPageServer({
      port: 0,
      token: TOKEN,
      assets: ASSETS,
      api: {
        instances: async () => ({ app: 'demo-app' }),
        broken: () => Promise.reject(new Error('App demo-app not found.')),
      },
      onTab: (t) => {
        tabs.push(t);
        t.onMessage((m) => {
          messages.push(m);
          if (m.type === 'input') t.output(Buffer.from(`echo:${m.data}`), () => undefined);
        });
      },
    });
  });
  after(() => server.close());

  it('closes the socket of a refused upgrade, even when the client never closes its side', async () => {
    const socket = net.connect({ port: server.port, host: '127.0.0.1', allowHalfOpen: true });
    await once(socket, 'connect');
    socket.write(
      [
        'GET /tab HTTP/1.1',
        `Host: 127.0.0.1:${server.port}`,
        'Origin: http://evil.example',
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        `Sec-WebSocket-Protocol: ${PAGE_PROTOCOL}, bearer.${TOKEN}`,
        '',
        '',
      ].join('\r\n'),
    );
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', () => undefined);
    await once(socket, 'end');
    assert.match(answer, /^HTTP\/1\.1 403 Forbidden\r\n/);
    // A socket the server only half-closed takes these for good (until the test's timeout); a
    // closed one answers the first with a reset, which the next write reports.
    // Not events.once: it would reject on the reset's error, which is the expected way to close.
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const writes = setInterval(() => socket.writable && socket.write('still here?', () => undefined), 50);
    await closed;
    clearInterval(writes);
  });

  it('serves the entry page and its boot script to anyone who names it by a loopback Host, and nothing else without the token', async () => {
    const { port } = server;
    const bearer = { Authorization: `Bearer ${TOKEN}` };
    const entry = await get(port, '/');
    assert.equal(entry.status, 200);
    assert.match(String(entry.headers['content-security-policy']), /default-src 'none'/);
    assert.equal((await get(port, '/boot.js')).status, 200);
    assert.equal((await get(port, '/', { Host: `localhost:${port}` })).status, 200);
    assert.equal((await get(port, '/assets/xterm.js', bearer)).body, '// xterm');
    assert.deepEqual(JSON.parse((await get(port, '/api/instances', bearer)).body), { app: 'demo-app' });

    assert.equal((await get(port, '/assets/xterm.js')).status, 403, 'no token');
    assert.equal((await get(port, '/assets/xterm.js', { Authorization: `Bearer ${TOKEN}y` })).status, 403, 'a longer token');
    assert.equal((await get(port, '/assets/xterm.js', { Authorization: TOKEN })).status, 403, 'not as Bearer');
    assert.equal((await get(port, '/api/instances', { Authorization: 'Bearer ' })).status, 403, 'an empty token');
    assert.equal((await get(port, `/api/instances?token=${TOKEN}`)).status, 403, 'the token in a query');
    assert.equal((await get(port, '/', { Host: `attacker.example:${port}` })).status, 403, 'a rebound name');
    assert.equal((await get(port, '/', { Host: '127.0.0.1' })).status, 403, 'no port');
    assert.equal((await get(port, '/api/instances', { ...bearer, Host: `127.0.0.1:${port + 1}` })).status, 403, 'another port');
    assert.equal((await get(port, '/api/instances', bearer, 'POST')).status, 403, 'only GET and HEAD');

    assert.equal((await get(port, '/nothing', bearer)).status, 404);
    assert.equal((await get(port, '/api/constructor', bearer)).status, 404, 'only the look-ups given');
    const broken = await get(port, '/api/broken', bearer);
    assert.deepEqual([broken.status, JSON.parse(broken.body)], [502, { error: 'App demo-app not found.' }]);
  });

  it('upgrades to a tab only from its own origin, with the token as a subprotocol', async () => {
    const { port } = server;
    await assert.rejects(tab(port, { origin: 'http://attacker.example' }), /refused: 403/);
    await assert.rejects(tab(port, { origin: `http://127.0.0.1:${port + 1}` }), /refused: 403/);
    await assert.rejects(tab(port, { origin: `http://localhost:${port}` }), /refused: 403/, 'the Origin must match the Host it came by');
    await assert.rejects(tab(port, { protocols: [PAGE_PROTOCOL, `bearer.${TOKEN.slice(1)}`] }), /refused: 403/);
    await assert.rejects(tab(port, { protocols: [PAGE_PROTOCOL] }), /refused: 403/);
    await assert.rejects(tab(port, { protocols: [`bearer.${TOKEN}`] }), /refused: 403/);
    assert.equal(tabs.length, 0);

    const ws = await tab(port);
    assert.equal(ws.protocol, PAGE_PROTOCOL, 'the token is not echoed back');
    const echoed = new Promise<string>((resolve) => ws.once('message', (data: Buffer) => resolve(data.toString())));
    ws.send(JSON.stringify({ type: 'input', data: 'ls\r' }));
    assert.equal(await echoed, 'echo:ls\r');
    ws.send(JSON.stringify({ type: 'resize', cols: 120, rows: 40 }));
    // Anything else is not from our page: the tab is closed.
    const closed = new Promise<number>((resolve) => ws.once('close', resolve));
    ws.send(JSON.stringify({ type: 'resize', cols: -1, rows: 40 }));
    assert.equal(await closed, 1008);
    assert.deepEqual(messages, [
      { type: 'input', data: 'ls\r' },
      { type: 'resize', cols: 120, rows: 40 },
    ]);
  });

  it('takes only the messages the page sends', () => {
    assert.deepEqual(parseTabMessage('{"type":"connect","process":"web","index":1,"cols":80,"rows":24}'), { type: 'connect', process: 'web', index: 1, cols: 80, rows: 24 });
    for (const text of [
      'not json',
      'null',
      '[]',
      '{"type":"connect","process":"","index":1,"cols":80,"rows":24}',
      '{"type":"connect","process":"web","index":-1,"cols":80,"rows":24}',
      '{"type":"connect","process":"web","index":1.5,"cols":80,"rows":24}',
      '{"type":"resize","cols":0,"rows":24}',
      '{"type":"resize","cols":80,"rows":1e9}',
      '{"type":"input","data":42}',
      '{"type":"exec","cols":80,"rows":24}',
    ]) {
      assert.equal(parseTabMessage(text), undefined, text);
    }
  });

  it('compares tokens in full', () => {
    assert.equal(tokenMatches(TOKEN, TOKEN), true);
    assert.equal(tokenMatches(undefined, TOKEN), false);
    assert.equal(tokenMatches('', TOKEN), false);
    assert.equal(tokenMatches(TOKEN.slice(0, 42), TOKEN), false);
  });
});
