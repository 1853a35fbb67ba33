// cf-ssh-tools as a cf plugin: a fake cf (net/rpc over gob on loopback, speaking through our own
// codec in the server role, checked against Go's recorded bytes) launches the CLI in-process in
// each of cf's launch modes, as bin.ts would; the commands' session comes from it and works
// against the test foundation. The built binary launched by a fake cf in a process of its own
// is in test/e2e/plugin-rpc.test.ts; by the Go cf-host, in test/e2e/package.test.ts.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { SPECS } from '../../src/commands/specs.js';
import { CfCli } from '../../src/plugin/cf-rpc.js';
import { pluginLaunch } from '../../src/plugin-launch.js';
import { RpcError } from '../../src/plugin/rpc.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { answersFor, type CfAnswers, exchange, FakeCf } from '../helpers/fake-cf.js';
import { readVectors, streamOf, VECTOR_METADATA, VECTOR_ORG, VECTOR_TOKEN_ERROR } from '../helpers/gob-vectors.js';
import { loggedIn, runCli, tempHome } from '../helpers/run-cli.js';

describe('the fake cf (our codec as the server)', () => {
  it('answers the recorded plugin messages with the bytes Go wrote', async () => {
    const cf = new FakeCf({
      api: '',
      sslDisabled: false,
      loggedIn: false,
      token: new Error(VECTOR_TOKEN_ERROR),
      org: { guid: VECTOR_ORG.OrganizationFields.Guid, name: VECTOR_ORG.OrganizationFields.Name },
      space: { guid: '', name: '' },
    });
    const port = await cf.listen();
    try {
      // In the order they were recorded: the type ids of one cf process depend on it.
      for (const recorded of readVectors()) {
        const expected = streamOf(recorded, 'cli->plugin');
        const answer = await exchange(port, streamOf(recorded, 'plugin->cli'), expected.length);
        assert.equal(answer.toString('hex'), expected.toString('hex'));
      }
      assert.deepEqual(cf.metadata, VECTOR_METADATA);
    } finally {
      await cf.close();
    }
  });
});

describe('launch modes', () => {
  it("takes only cf's launches for plugin runs: a port, then SendMetadata, CLI-MESSAGE-UNINSTALL or a plugin command", () => {
    assert.deepEqual(pluginLaunch(['53211', 'SendMetadata']), { port: 53211, mode: 'metadata' });
    assert.deepEqual(pluginLaunch(['53211', 'CLI-MESSAGE-UNINSTALL']), { port: 53211, mode: 'uninstall' });
    assert.deepEqual(pluginLaunch(['53211', 'xssh', 'my-app', '-i', '1']), { port: 53211, mode: 'command', command: 'ssh', args: ['my-app', '-i', '1'] });
    assert.deepEqual(pluginLaunch(['1', 'connect-to-service', 'a', 'db']), { port: 1, mode: 'command', command: 'connect-to-service', args: ['a', 'db'] });
    for (const standalone of [
      [],
      ['8080'],
      ['8080', 'ssh'],
      ['8080', 'login'],
      ['ssh', 'SendMetadata'],
      ['08080', 'SendMetadata'],
      ['70000', 'SendMetadata'],
      ['0', 'SendMetadata'],
      ['-1', 'xssh'],
      ['80a', 'xssh'],
    ]) {
      assert.equal(pluginLaunch(standalone), undefined, standalone.join(' '));
    }
  });

  it('a standalone run whose first word is a number is still a standalone run', async () => {
    const r = await runCli(tempHome(), ['8080']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "'8080' is not a registered command. See 'cf-ssh-tools help'.\n");
  });
});

describe('cf-ssh-tools launched by cf', () => {
  let foundation: Foundation;
  let cf: FakeCf;
  let port: number;
  let session: CfAnswers;

  before(async () => {
    foundation = await startFoundation({ ssh: false });
    session = await answersFor(foundation);
    cf = new FakeCf(session);
    port = await cf.listen();
  });
  after(async () => {
    await cf.close();
    await foundation.stop();
  });
  afterEach(() => {
    cf.answers = session;
    cf.misbehave = undefined;
    cf.calls.length = 0;
  });

  it('SendMetadata: the commands that have a plugin_name, by that name, none named like a cf core command', async () => {
    const r = await runCli(tempHome(), [String(port), 'SendMetadata'], { input: undefined });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
    assert.deepEqual(cf.calls, ['CliRpcCmd.SetPluginMetadata']);
    const metadata = cf.metadata;
    assert.ok(metadata, 'cf got the metadata');
    assert.equal(metadata.Name, 'cf-ssh-tools');
    assert.deepEqual(metadata.Version, { Major: 0, Minor: 1, Build: 0 });
    assert.deepEqual(metadata.LibraryVersion, { Major: 1, Minor: 0, Build: 0 });
    assert.deepEqual(metadata.MinCliVersion, { Major: 7, Minor: 3, Build: 0 });
    const names = metadata.Commands.map((c) => c.Name);
    assert.deepEqual(names, [
      'xssh',
      'xenable-ssh',
      'xdisable-ssh',
      'xssh-enabled',
      'xallow-space-ssh',
      'xdisallow-space-ssh',
      'xspace-ssh-allowed',
      'ssh-audit',
      'xssh-code',
      'copy',
      'tunnel',
      'web-ssh',
      'connect-to-service',
    ]);
    const core = [
      'ssh',
      'ssh-code',
      'enable-ssh',
      'disable-ssh',
      'ssh-enabled',
      'allow-space-ssh',
      'disallow-space-ssh',
      'space-ssh-allowed',
      'login',
      'l',
      'logout',
      'lo',
      'target',
      't',
      'api',
      'auth',
      'apps',
      'a',
      'app',
      'push',
      'p',
      'curl',
      'help',
      'h',
      'version',
      'plugins',
      'install-plugin',
      'uninstall-plugin',
    ];
    for (const command of metadata.Commands) {
      assert.ok(!core.includes(command.Name), `${command.Name} is a cf core command`);
      assert.equal(command.Alias, '');
      assert.ok(command.HelpText.length > 0);
      for (const line of command.UsageDetails.Usage.split('\n').filter((l) => l.startsWith('cf '))) assert.match(line, new RegExp(`^cf ${command.Name}( |$)`));
      assert.doesNotMatch(command.UsageDetails.Usage, /\{cmd\}|cf-ssh-tools/);
    }
    const ssh = metadata.Commands.find((c) => c.Name === 'xssh');
    assert.ok(ssh);
    const spec = SPECS.ssh;
    assert.equal(ssh.HelpText, spec.description);
    assert.equal(ssh.UsageDetails.Usage.split('\n')[0], 'cf xssh APP_NAME [--process PROCESS] [-i INDEX] [-c COMMAND]...');
    // cf prints a one-letter key as -K and a longer one as --K.
    assert.equal(ssh.UsageDetails.Options.get('app-instance-index, -i'), 'App process instance index (Default: 0)');
    assert.equal(ssh.UsageDetails.Options.get('L'), 'Local port forward specification');
    assert.equal(ssh.UsageDetails.Options.size, spec.options.length);
    const enableSsh = metadata.Commands.find((c) => c.Name === 'xenable-ssh')?.UsageDetails.Options;
    assert.deepEqual([...(enableSsh?.keys() ?? [])], ['for', 'reason', 'restart']);
  });

  it('CLI-MESSAGE-UNINSTALL removes our own session and exits 0, also when there is none', async () => {
    const home = await loggedIn(foundation.url);
    assert.ok(existsSync(path.join(home, '.cf-ssh-tools', 'session.json')));
    const r = await runCli(home, [String(port), 'CLI-MESSAGE-UNINSTALL']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(path.join(home, '.cf-ssh-tools', 'session.json')), false);
    assert.equal(existsSync(path.join(home, '.cf-ssh-tools', 'tokens.json')), false);
    assert.equal((await runCli(home, [String(port), 'CLI-MESSAGE-UNINSTALL'])).code, 0);
  });

  it("xssh-code prints a one-time code made with the token cf hands over, and writes nothing of cf's", async () => {
    const home = tempHome();
    const r = await runCli(home, [String(port), 'xssh-code']);
    assert.equal(r.code, 0, r.stderr);
    const code = r.stdout.trim();
    assert.match(code, /^[\w-]{6,}$/);
    assert.ok(cf.calls.includes('CliRpcCmd.AccessToken'));
    // The SSH proxy's own redemption of the code says whose it is.
    const redeemed = await fetch(`${foundation.url}/uaa/oauth/token`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Basic ${Buffer.from('ssh-proxy:ssh-proxy-secret').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code }).toString(),
    });
    assert.equal(redeemed.status, 200);
    const { access_token: proxyToken } = (await redeemed.json()) as { access_token: string };
    assert.equal(JSON.parse(Buffer.from(proxyToken.split('.')[1] ?? '', 'base64url').toString()).user_name, 'developer');
    assert.equal(existsSync(path.join(home, '.cf')), false, 'cf keeps its own config');
    assert.equal(existsSync(path.join(home, '.cf-ssh-tools')), false, 'no session of ours either');
  });

  it("uses cf's org and space: xssh-enabled answers for an app of the targeted space", async () => {
    const r = await runCli(tempHome(), [String(port), 'xssh-enabled', 'demo-app', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).levels, { global: true, space: true, app: true });
    assert.ok(cf.calls.includes('CliRpcCmd.GetCurrentSpace'));
  });

  it("sends users to cf's own login, target and auth, in cf's words", async () => {
    cf.answers = { ...session, loggedIn: false };
    let r = await runCli(tempHome(), [String(port), 'xssh-code']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "Not logged in. Use 'cf login' or 'cf login --sso' to log in.\n");
    assert.ok(!cf.calls.includes('CliRpcCmd.AccessToken'));

    cf.answers = { ...session, api: '' };
    r = await runCli(tempHome(), [String(port), 'xssh-code']);
    assert.equal(r.stderr, "No API endpoint set. Use 'cf login -a API_URL' to set one.\n");

    cf.answers = { ...session, space: { guid: '', name: '' } };
    r = await runCli(tempHome(), [String(port), 'xssh-enabled', 'demo-app']);
    assert.equal(r.stderr, "No space targeted, use 'cf target -s SPACE' to target a space.\n");

    cf.answers = { ...session, token: new Error('token refresh failed') };
    r = await runCli(tempHome(), [String(port), 'xssh-code']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'The token expired, was revoked, or the token ID is incorrect. Please log back in to re-authenticate.\n');
  });

  it("shows a command's help under its name inside cf on a usage error", async () => {
    const r = await runCli(tempHome(), [String(port), 'xssh-enabled']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Incorrect Usage: the required argument `APP_NAME` was not provided\n\n');
    assert.match(r.stdout, /^NAME:\n {3}xssh-enabled - /);
    assert.match(r.stdout, /\n {3}cf xssh-enabled APP_NAME \[--json\]\n/);
  });

  it('fails with a message, not a hang, when cf is gone', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const r = await runCli(tempHome(), [String(closed), 'xssh-code']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^The plugin could not talk to cf \(CliRpcCmd.ApiEndpoint\): connect ECONNREFUSED/);
  });
});

describe('the RPC client', () => {
  let cf: FakeCf;
  let port: number;

  before(async () => {
    cf = new FakeCf({ api: 'https://api.example.com', sslDisabled: true, loggedIn: true, token: 'bearer x', org: { guid: 'o', name: 'org' }, space: { guid: 's', name: 'space' } });
    port = await cf.listen();
  });
  after(() => cf.close());
  afterEach(() => {
    cf.misbehave = undefined;
    cf.calls.length = 0;
  });

  it('calls each method on a connection of its own, and CliCommand as three calls on one', async () => {
    const client = new CfCli(port);
    assert.equal(await client.apiEndpoint(), 'https://api.example.com');
    assert.equal(await client.isSSLDisabled(), true);
    assert.deepEqual(await client.currentOrg(), { guid: 'o', name: 'org' });
    assert.deepEqual(await client.currentSpace(), { guid: 's', name: 'space' });
    assert.deepEqual(await client.cliCommand(['apps', '--x']), ['ran:', 'apps', '--x']);
    assert.deepEqual(cf.calls.slice(-3), ['CliRpcCmd.DisableTerminalOutput', 'CliRpcCmd.CallCoreCommand', 'CliRpcCmd.GetOutputAndReset']);
  });

  it("turns cf's error reply into an RpcError from the server, and reads past its empty body", async () => {
    cf.answers = { ...cf.answers, token: new Error('token refresh failed') };
    const client = new CfCli(port);
    await assert.rejects(client.accessToken(), (err: unknown) => err instanceof RpcError && err.fromServer && err.detail === 'token refresh failed');
  });

  it('gives up on a cf that hangs up or does not answer, within its timeout', async () => {
    cf.misbehave = 'hang up';
    await assert.rejects(new CfCli(port).apiEndpoint(), (err: unknown) => err instanceof RpcError && !err.fromServer && /closed the connection/.test(err.message));
    cf.misbehave = 'silent';
    const started = Date.now();
    await assert.rejects(new CfCli(port, 300).apiEndpoint(), (err: unknown) => err instanceof RpcError && /no answer within 0.3 s/.test(err.message));
    assert.ok(Date.now() - started < 2000);
  });

  it('refuses an answer that is not gob', async () => {
    // A one-byte message whose type id is 0.
    const garbage = net.createServer((socket) => socket.on('data', () => socket.write(Buffer.from('0100', 'hex'))));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    try {
      const { port: garbagePort } = garbage.address() as net.AddressInfo;
      await assert.rejects(new CfCli(garbagePort, 2000).apiEndpoint(), (err: unknown) => err instanceof RpcError && /not gob/.test(err.message));
    } finally {
      garbage.close();
    }
  });
});
