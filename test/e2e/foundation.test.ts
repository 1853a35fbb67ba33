// `npm run foundation` as a user runs it: prints api=URL when ready, serves CC and UAA, stops on Ctrl-C.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/foundation.js';

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
});
