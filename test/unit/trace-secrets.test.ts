// CF_TRACE keeps secrets: a whole session traced in-process (login, a token refresh, ssh-code,
// ssh, logout with revocation) leaves no token, refresh token, one-time code or password in the
// trace file or on stderr, and the trace file is private (0600), also one that was there before.
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { loggedIn, runCli, tempHome } from '../helpers/run-cli.js';

const PASSWORD = 'developer-pass';

describe('CF_TRACE keeps secrets', () => {
  let foundation: Foundation;
  // Every secret the foundation handed out, and the password.
  const secrets = new Set<string>([PASSWORD]);

  before(async () => {
    // Tokens that live less than the minute before expiry at which they are refreshed: every command refreshes.
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin', databases: false, accessTokenTtl: 30 });
    const { tokens } = foundation;
    const issue = tokens.issue.bind(tokens);
    tokens.issue = (...args) => {
      const issued = issue(...args);
      secrets.add(issued.access_token);
      if (issued.refresh_token) secrets.add(issued.refresh_token);
      return issued;
    };
    const newCode = tokens.newCode.bind(tokens);
    tokens.newCode = (...args) => {
      const code = newCode(...args);
      secrets.add(code);
      return code;
    };
  });
  after(() => foundation.stop());

  /** The secrets found in `text`, shortened for the failure message. */
  const found = (text: string) => [...secrets].filter((secret) => text.includes(secret)).map((s) => `${s.slice(0, 12)}…`);

  it('a whole session: login, refresh, ssh-code, ssh, logout', async () => {
    const home = tempHome();
    const trace = path.join(mkdtempSync(path.join(tmpdir(), 'cf-trace-')), 'trace.log');
    writeFileSync(trace, 'an older trace\n');
    chmodSync(trace, 0o644);
    const env = { CF_TRACE: trace };
    let stderr = '';
    const run = async (args: string[]) => {
      const r = await runCli(home, args, { env });
      stderr += r.stderr;
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return r;
    };

    await run(['login', '-a', foundation.url, '-u', 'developer', '-p', PASSWORD, '-o', 'demo-org', '-s', 'demo-space']);
    assert.equal(statSync(trace).mode & 0o777, 0o600, 'the existing trace file was made private');
    const code = (await run(['ssh-code'])).stdout.trim();
    assert.ok(secrets.has(code), 'ssh-code printed a code the foundation issued');
    await run(['ssh', 'demo-app', '-c', 'true']);
    await run(['logout']);

    const text = readFileSync(trace, 'utf8');
    // What was traced, so that a trace that lost its requests cannot pass.
    for (const line of [
      'POST /uaa/oauth/token HTTP/1.1',
      'grant_type=refresh_token',
      'GET /uaa/oauth/authorize?client_id=ssh-proxy&response_type=code HTTP/1.1',
      'GET /v3/apps/',
      'DELETE /uaa/oauth/token/revoke/[PRIVATE DATA HIDDEN] HTTP/1.1',
    ]) {
      assert.ok(text.includes(line), `the trace has no ${line}`);
    }
    assert.ok(secrets.size >= 6, `${secrets.size} secrets: logins, refreshes and codes were issued`);
    assert.deepEqual(found(text), [], 'secrets in the trace file');
    assert.deepEqual(found(stderr), [], 'secrets on stderr');
    assert.equal(statSync(trace).mode & 0o777, 0o600);
  });

  it('logout with CF_TRACE=true does not print the refresh token it revokes', async () => {
    const home = await loggedIn(foundation.url);
    const r = await runCli(home, ['logout'], { env: { CF_TRACE: 'true' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^DELETE \/uaa\/oauth\/token\/revoke\/\[PRIVATE DATA HIDDEN\] HTTP\/1\.1$/m);
    assert.deepEqual(found(r.stderr + r.stdout), []);
  });

  it('creates a new trace file 0600', async () => {
    const trace = path.join(mkdtempSync(path.join(tmpdir(), 'cf-trace-')), 'new.log');
    const r = await runCli(tempHome(), ['login', '-a', foundation.url, '-u', 'developer', '-p', PASSWORD], { env: { CF_TRACE: trace } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(trace).mode & 0o777, 0o600);
    assert.deepEqual(found(readFileSync(trace, 'utf8')), []);
  });
});
