// `npm run foundation` as a user runs it: prints api=URL when ready, serves CC and UAA, stops on Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { describe, it } from 'node:test';
import { ROOT, startFoundationProcess } from '../helpers/foundation.js';

/** GET over HTTPS trusting only `ca`: the JSON body and the Host header sent. */
function getJson<T>(url: string, ca: string, headers: Record<string, string> = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, headers }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(JSON.parse(body) as T));
      })
      .once('error', reject);
  });
}

describe('npm run foundation', () => {
  it('starts on a free port, answers GET / and /v3 with CC links, and stops on SIGINT', async () => {
    const child = spawn('npm', ['run', '--silent', 'foundation', '--', '--port', '0'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        const match = /^api=(http:\/\/127\.0\.0\.1:\d+)$/.exec(line);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`npm run foundation exited with ${code}`)));
    });
    try {
      const root = (await (await fetch(`${url}/`)).json()) as { links: Record<string, { href: string; meta?: Record<string, string> }> };
      assert.equal(root.links.cloud_controller_v3?.href, `${url}/v3`);
      assert.equal(root.links.login?.href, `${url}/uaa`);
      assert.equal(root.links.uaa?.href, `${url}/uaa`);
      assert.equal(root.links.app_ssh?.meta?.oauth_client, 'ssh-proxy');
      const v3 = (await (await fetch(`${url}/v3`)).json()) as { links: Record<string, { href: string }> };
      for (const resource of ['apps', 'organizations', 'spaces', 'processes', 'service_instances', 'service_credential_bindings']) {
        assert.equal(v3.links[resource]?.href, `${url}/v3/${resource}`, resource);
      }
      // cf 7.3.0 sends an empty Authorization header to /login: it must not be refused.
      const login = await fetch(`${url}/uaa/login`, { headers: { Authorization: '' } });
      assert.equal(login.status, 200);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      process.kill(-child.pid!, 'SIGINT');
      await exited;
    }
    await assert.rejects(fetch(`${url}/`), 'the server is gone after Ctrl-C');
  });

  it('refuses a bad --port with one line and exit 1', async () => {
    const child = spawn('node', ['build/test/foundation/main.js', '--port', 'eighty'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise((resolve) => child.once('close', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /^--port takes 0 to 65535, not 'eighty'\n/);
  });

  it('publishes other API, UAA and SSH addresses with --public-*, over HTTPS with --ca-out, and records the Host of each request', async () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-foundation-'));
    const caFile = path.join(scratch, 'ca.pem');
    const [api, uaa, ssh] = ['https://127.0.0.1:1443', 'https://127.0.0.1:2443', '127.0.0.1:2222'];
    const foundation = await startFoundationProcess(['--https', '--ca-out', caFile, '--no-databases', '--public-url', api, '--public-uaa-url', uaa, '--public-ssh', ssh]);
    try {
      assert.match(foundation.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'api= still says where it listens');
      const ca = readFileSync(caFile, 'utf8');
      const root = await getJson<{ links: Record<string, { href: string }> }>(`${foundation.url}/`, ca, { Host: '127.0.0.1:1443' });
      assert.equal(root.links.self?.href, api);
      assert.equal(root.links.cloud_controller_v3?.href, `${api}/v3`);
      assert.equal(root.links.uaa?.href, `${uaa}/uaa`);
      assert.equal(root.links.login?.href, `${uaa}/uaa`);
      assert.equal(root.links.app_ssh?.href, ssh);
      const login = await getJson<{ links: { uaa: string; login: string } }>(`${foundation.url}/uaa/login`, ca, { Host: '127.0.0.1:2443' });
      assert.deepEqual([login.links.uaa, login.links.login], [`${uaa}/uaa`, `${uaa}/uaa`]);
      const requests = await getJson<{ host: string; method: string; path: string }[]>(`${foundation.url}/foundation/requests`, ca);
      assert.deepEqual(requests, [
        { host: '127.0.0.1:1443', method: 'GET', path: '/', query: '' },
        { host: '127.0.0.1:2443', method: 'GET', path: '/uaa/login', query: '' },
      ]);
    } finally {
      await foundation.stop();
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('refuses a --public-url that is not an origin, a --public-ssh without a port, and --ca-out without --https, with one line and exit 1', async () => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-foundation-'));
    try {
      for (const [args, message] of [
        [['--public-url', 'https://127.0.0.1:1443/v3'], "--public-url takes an origin such as https://127.0.0.1:8443, not 'https://127.0.0.1:1443/v3'"],
        [['--public-ssh', '127.0.0.1'], "--public-ssh takes HOST:PORT, not '127.0.0.1'"],
        [['--ca-out', path.join(scratch, 'ca.pem')], '--ca-out needs --https: a plain HTTP foundation has no certificate'],
      ] as const) {
        const child = spawn('node', ['build/test/foundation/main.js', '--port', '0', '--no-databases', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d) => (stderr += d));
        const code = await new Promise((resolve) => child.once('close', resolve));
        assert.equal(code, 1, args.join(' '));
        assert.equal(stderr.split('\n')[0], message);
      }
      assert.equal(existsSync(path.join(scratch, 'ca.pem')), false, 'no certificate file left behind');
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
