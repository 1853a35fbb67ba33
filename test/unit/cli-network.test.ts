// What users see when the API cannot be reached, over TLS they do not trust, and through
// an HTTP proxy; plus every command's reaction to wrong flags and arguments. The CLI and the
// foundations in-process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { loggedIn, runCli, tempHome } from '../helpers/run-cli.js';
import { freePort } from '../helpers/net.js';
import { connectProxy } from '../helpers/proxies.js';

describe('network errors, TLS and proxies', () => {
  let foundation: Foundation;
  let tls: Foundation;

  before(async () => {
    [foundation, tls] = await Promise.all([startFoundation({ ssh: false }), startFoundation({ ssh: false, https: true })]);
  });
  after(() => Promise.all([foundation.stop(), tls.stop()]));

  it('connection refused: one line naming the endpoint, exit 1', async () => {
    const port = await freePort();
    const r = await runCli(tempHome(), ['login', '-a', `http://127.0.0.1:${port}`, '-u', 'developer', '-p', 'x']);
    assert.equal(r.code, 1);
    const errors = r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning'));
    assert.deepEqual(errors, [`Cannot reach http://127.0.0.1:${port}: connection refused. Check the API URL, or set https_proxy if you are behind a proxy.`]);
  });

  it('a host that does not resolve', async () => {
    const r = await runCli(tempHome(), ['login', '-a', 'https://api.nothing.invalid', '-u', 'developer', '-p', 'x']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Cannot reach https:\/\/api\.nothing\.invalid: the host name does not resolve\./m);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('a self-signed certificate is refused unless --skip-ssl-validation, which is remembered', async () => {
    const home = tempHome();
    const args = ['login', '-a', tls.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'];
    const refused = await runCli(home, args);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`^Invalid SSL certificate for ${tls.url} \\(.+\\)\\. Use '--skip-ssl-validation'`, 'm'));
    const accepted = await runCli(home, [...args, '--skip-ssl-validation']);
    assert.equal(accepted.code, 0, accepted.stderr);
    const later = await runCli(home, ['ssh-enabled', 'demo-app']);
    assert.equal(later.code, 0, later.stderr);
  });

  it('an https API whose root sends logins to an http:// UAA: refused before any password is sent', async () => {
    const downgraded = await startFoundation({ ssh: false, https: true, published: { uaaUrl: foundation.url } });
    try {
      foundation.requests.length = 0;
      const r = await runCli(tempHome(), ['login', '-a', downgraded.url, '--skip-ssl-validation', '-u', 'developer', '-p', 'developer-pass']);
      assert.deepEqual(
        [r.code, r.stderr.split('\n').filter((l) => l && !l.startsWith('Warning'))],
        [
          1,
          [
            `${downgraded.url} names an http:// server for links.login (${foundation.url}/uaa): cf-ssh-tools does not send a password or token unencrypted. Ask the foundation's operators to publish https.`,
          ],
        ],
      );
      assert.deepEqual(
        foundation.requests.map((request) => request.path),
        [],
        'nothing went to the http:// server',
      );
    } finally {
      await downgraded.stop();
    }
  });

  it('goes through an HTTP CONNECT proxy from https_proxy / http_proxy, and not for no_proxy hosts', async () => {
    const proxy = await connectProxy();
    try {
      const host = new URL(tls.url).host;
      const home = tempHome();
      const r = await runCli(home, ['login', '-a', tls.url, '--skip-ssl-validation', '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'], {
        env: { https_proxy: proxy.url },
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(proxy.tunnels.includes(host), `expected a CONNECT to ${host}, saw ${proxy.tunnels.join(', ')}`);
      proxy.tunnels.length = 0;
      const bypass = await runCli(home, ['ssh-code'], { env: { https_proxy: proxy.url, no_proxy: '127.0.0.1' } });
      assert.equal(bypass.code, 0, bypass.stderr);
      assert.deepEqual(proxy.tunnels, []);
      const plain = await loggedIn(foundation.url);
      const viaHttpProxy = await runCli(plain, ['ssh-code'], { env: { http_proxy: proxy.url } });
      assert.equal(viaHttpProxy.code, 0, viaHttpProxy.stderr);
      assert.ok((proxy.tunnels as string[]).includes(new URL(foundation.url).host));
    } finally {
      proxy.close();
    }
  });

  it('every command answers a wrong flag or argument with Incorrect Usage, its help, and exit 1', async () => {
    // cf's two shapes: a flag or argument that does not parse gets the message and an empty
    // line on stderr, then the help; arguments that parse but do not fit also get FAILED.
    const cases: [string[], string, boolean][] = [
      [['enable-ssh'], 'the required argument `APP_NAME` was not provided', false],
      [['disable-ssh', 'a', 'b', 'c'], 'unexpected argument "b c"', true],
      [['ssh-enabled', '--bogus', 'a'], "unknown flag `bogus'", false],
      [['allow-space-ssh'], 'the required argument `SPACE_NAME` was not provided', false],
      [['disallow-space-ssh', '-x', 's'], "unknown flag `x'", false],
      [['space-ssh-allowed'], 'the required argument `SPACE_NAME` was not provided', false],
      [['ssh-code', 'extra'], 'unexpected argument "extra": with an app, give --openssh for ready ssh, scp and sftp command lines', true],
      [['ssh', 'app', '-L', '8080'], "Bad local forwarding specification '8080'", true],
      [['ssh', 'app', '-T', '-t'], 'The following arguments cannot be used together: --disable-pseudo-tty, -T, --force-pseudo-tty, --request-pseudo-tty, -t', true],
      [['ssh', 'app', '-i', 'one'], "invalid argument for flag '--app-instance-index, -i': 'one' is not an instance index (0, 1, 2, ...)", true],
      [['ssh', 'app', '--', '-v'], 'unexpected argument "-v": arguments after -- go to --ssh-client openssh', true],
      [['login', '-a'], "expected argument for flag `-a'", false],
      [['logout', '--now'], "unknown flag `now'", false],
      [['target', '-o'], "expected argument for flag `-o'", false],
      [['ssh'], 'the required argument `APP_NAME` was not provided', false],
    ];
    for (const [args, message, failed] of cases) {
      const r = await runCli(tempHome(), args);
      const what = args.join(' ');
      assert.equal(r.code, 1, what);
      assert.equal(r.stderr, `Incorrect Usage: ${message}\n${failed ? '' : '\n'}`, what);
      assert.ok(r.stdout.startsWith(`${failed ? 'FAILED\n\n' : ''}NAME:\n   ${args[0]} - `), what);
      assert.match(r.stdout, new RegExp(`USAGE:\\n   cf-ssh-tools ${args[0]}`), what);
    }
    const unknown = await runCli(tempHome(), ['sshh']);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, "'sshh' is not a registered command. See 'cf-ssh-tools help'.\n");
  });

  it('a malformed API URL is one clear line', async () => {
    const r = await runCli(tempHome(), ['login', '-a', 'ftp://api.example.com', '-u', 'u', '-p', 'p']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "'ftp://api.example.com' is not an http(s) URL: use e.g. -a https://api.example.com\n");
  });
});
