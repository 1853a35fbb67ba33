// The single-file executable made by scripts/pkg: its checksums and plugin-repository index,
// the embedded manifest and native addons, and cf's plugin protocol, run through test/cf-host
// (a Go program that does what cf does: net/rpc, gob, the install checks) against the foundation.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { type CliResult, onPath, runProgram, tempHome } from '../helpers/cli.js';
import { type RunningFoundation, ROOT, startFoundationProcess } from '../helpers/foundation.js';

const installed = (pkg: string) => {
  try {
    createRequire(path.join(ROOT, 'package.json')).resolve(pkg);
    return true;
  } catch {
    return false;
  }
};

// scripts/pkg builds from Node.js 26 as the npm registry publishes it (build/pkg/cache keeps it).
const nodeAvailable = existsSync(path.join(ROOT, 'build/pkg/cache')) || spawnSync('npm', ['ping'], { stdio: 'ignore', timeout: 30_000 }).status === 0;

const why = !onPath('go')
  ? 'go is not installed (Debian: apt-get install golang-go)'
  : !installed('esbuild') || !installed('postject')
    ? 'the packaging tools are not installed (npm devDependencies esbuild, postject)'
    : process.platform !== 'linux' || process.arch !== 'x64'
      ? 'scripts/pkg is tested on linux64'
      : !nodeAvailable
        ? 'the npm registry does not answer and build/pkg/cache is empty: no Node.js build to make the executable of'
        : false;

const sha = (algorithm: string, file: string) => createHash(algorithm).update(readFileSync(file)).digest('hex');

interface Metadata {
  Name: string;
  Version: { Major: number; Minor: number; Build: number };
  LibraryVersion: { Major: number; Minor: number; Build: number };
  Commands: { Name: string; Alias: string; HelpText: string; UsageDetails: { Usage: string } }[];
}

// A bound on the whole suite: a stuck child process fails it instead of holding CI.
describe('the packaged executable', { skip: why, timeout: 600_000 }, () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; description: string };
  const manifest = parse(readFileSync(path.join(ROOT, 'plugin-manifest.yml'), 'utf8')) as { name: string; commands: { name: string; plugin_name?: string; description: string }[] };
  let work: string;
  let dist: string;
  let binary: string;
  let host: string;
  let foundation: RunningFoundation;
  let session: string;

  /** A run in a home of its own; LD_DEBUG=files logs every shared object the process initializes. */
  function run(file: string, args: string[], home: string, extra: Record<string, string> = {}): Promise<CliResult> {
    const env = { PATH: process.env.PATH, HOME: home, CF_HOME: home, XDG_CACHE_HOME: path.join(home, 'cache'), CF_SSH_TOOLS_NO_KEYCHAIN: 'true', ...extra };
    return runProgram(file, args, { env, timeoutMs: 60_000 });
  }

  /** The shared objects a run initialized, from LD_DEBUG's log files in home. */
  const initialized = (home: string) =>
    readdirSync(home)
      .filter((f) => f.startsWith('ld.'))
      .flatMap((f) => [...readFileSync(path.join(home, f), 'utf8').matchAll(/calling init: (\S+)/g)].map((m) => m[1] ?? ''));

  const viaCf = (args: string[], home: string, extra: Record<string, string> = {}) =>
    run(host, ['-config', session, '-log', path.join(home, 'rpc.log'), binary, ...args], home, extra);

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-pkg-test-'));
    dist = path.join(work, 'dist');
    // The real command, into a folder of its own so that a dist/ being released is not touched.
    execFileSync(path.join(ROOT, 'scripts/pkg'), ['--out', dist, '--base-url', 'https://releases.example.com/v1'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    binary = path.join(dist, 'cf-ssh-tools-linux64');
    host = path.join(work, 'cf-host');
    execFileSync('go', ['build', '-o', host, '.'], {
      cwd: path.join(ROOT, 'test/cf-host'),
      env: { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOTOOLCHAIN: 'local' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });

    foundation = await startFoundationProcess();
    const { access_token } = await foundation.tokens('developer', 'developer-pass');
    const get = async (p: string) =>
      (await (await fetch(`${foundation.url}${p}`, { headers: { Authorization: `bearer ${access_token}` } })).json()) as { resources: { guid: string }[] };
    const orgGuid = (await get('/v3/organizations?names=demo-org')).resources[0]?.guid;
    const spaceGuid = (await get(`/v3/spaces?names=demo-space&organization_guids=${orgGuid}`)).resources[0]?.guid;
    assert.ok(orgGuid && spaceGuid, 'the foundation has demo-org and demo-space');
    session = path.join(work, 'session.json');
    writeFileSync(session, JSON.stringify({ api: foundation.url, token: access_token, username: 'developer', orgGuid, orgName: 'demo-org', spaceGuid, spaceName: 'demo-space' }), {
      mode: 0o600,
    });
  });
  after(async () => {
    await foundation?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('dist/ has the binary, its SHA-256 and SHA-1 sums, and the plugin-repository index', () => {
    assert.ok(statSync(binary).mode & 0o100, 'executable');
    const sha1 = sha('sha1', binary);
    assert.equal(readFileSync(path.join(dist, 'SHA256SUMS'), 'utf8'), `${sha('sha256', binary)}  cf-ssh-tools-linux64\n`);
    assert.equal(readFileSync(path.join(dist, 'SHA1SUMS'), 'utf8'), `${sha1}  cf-ssh-tools-linux64\n`);
    const binaries = [{ checksum: sha1, platform: 'linux64', url: 'https://releases.example.com/v1/cf-ssh-tools-linux64' }];

    const indexText = readFileSync(path.join(dist, 'repo-index.yml'), 'utf8');
    const [entry] = (parse(indexText) as { plugins: Record<string, unknown>[] }).plugins;
    assert.ok(entry, 'the index has a plugin');
    assert.deepEqual(Object.keys(entry).sort(), ['authors', 'binaries', 'company', 'created', 'description', 'homepage', 'name', 'updated', 'version']);
    assert.equal(entry.name, manifest.name);
    assert.equal(entry.version, pkg.version);
    assert.equal(entry.description, pkg.description);
    assert.deepEqual(entry.binaries, binaries);
    assert.ok((entry.authors as { name: string }[]).every((a) => a.name));
    // cli-plugin-repo's Go YAML reads created/updated as timestamps: plain, not quoted.
    assert.match(indexText, /^ {2}created: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);
    assert.match(indexText, /^ {2}updated: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m);

    const list = JSON.parse(readFileSync(path.join(dist, 'list'), 'utf8')) as { plugins: { name: string; description: string; version: string; binaries: unknown }[] };
    assert.equal(list.plugins.length, 1);
    const [plugin] = list.plugins;
    assert.ok(plugin);
    const { name, description, version, binaries: listed } = plugin;
    assert.deepEqual({ name, description, version, binaries: listed }, { name: manifest.name, description: pkg.description, version: pkg.version, binaries });
    assert.match(readFileSync(path.join(dist, 'THIRD-PARTY-NOTICES'), 'utf8'), /^ssh2@\S+ \(MIT\)$/m);
  });

  it('runs on its own, far from node_modules: version, help from the embedded manifest', async () => {
    const home = tempHome();
    const version = await run(binary, ['--version'], home);
    assert.deepEqual(version, { code: 0, signal: null, stdout: `${pkg.version}\n`, stderr: '' });
    const help = await run(binary, ['--help'], home);
    assert.equal(help.code, 0, help.stderr);
    for (const command of manifest.commands) assert.match(help.stdout, new RegExp(`^\\s+${command.name}\\s`, 'm'));
  });

  it('logs in standalone, with the embedded keyring addon unpacked to a private cache folder', async () => {
    const home = tempHome();
    // The keychain allowed: @napi-rs/keyring loads (no Secret Service here: tokens go to the file).
    const login = await run(binary, ['login', '-a', foundation.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'], home, {
      CF_SSH_TOOLS_NO_KEYCHAIN: '',
      LD_DEBUG: 'files',
      LD_DEBUG_OUTPUT: path.join(home, 'ld'),
    });
    assert.equal(login.code, 0, login.stderr);
    const cache = readdirSync(path.join(home, 'cache')).find((f) => f.startsWith(`cf-ssh-tools-${pkg.version}-`));
    assert.ok(cache, 'the addons are unpacked under XDG_CACHE_HOME');
    const folder = path.join(home, 'cache', cache);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    assert.ok(initialized(home).includes(path.join(folder, 'keyring.node')), 'keyring.node was loaded from the cache folder');
    const enabled = await run(binary, ['ssh-enabled', 'demo-app'], home);
    assert.deepEqual(enabled, { code: 0, signal: null, stdout: "ssh support is enabled for app 'demo-app'.\n", stderr: '' });
  });

  it('SendMetadata: the metadata passes cf’s install checks', async () => {
    const r = await run(host, [binary], tempHome());
    assert.equal(r.code, 0, r.stderr);
    const metadata = JSON.parse(r.stdout) as Metadata;
    assert.equal(metadata.Name, manifest.name);
    assert.equal(`${metadata.Version.Major}.${metadata.Version.Minor}.${metadata.Version.Build}`, pkg.version);
    assert.ok(metadata.LibraryVersion.Major <= 1);
    const expected = manifest.commands.filter((c) => c.plugin_name).map((c) => ({ name: c.plugin_name, help: c.description }));
    assert.deepEqual(
      metadata.Commands.map((c) => ({ name: c.Name, help: c.HelpText })),
      expected,
    );
    for (const c of metadata.Commands) assert.match(c.UsageDetails.Usage, new RegExp(`^cf ${c.Name}\\b`));
  });

  it('scripts/pkg --rename gives a command another name inside cf, and cf runs it by that name', async () => {
    const renamed = path.join(work, 'renamed');
    execFileSync(path.join(ROOT, 'scripts/pkg'), ['--out', renamed, '--rename', 'connect-to-service=xconnect'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    const plugin = path.join(renamed, 'cf-ssh-tools-linux64');
    const metadata = JSON.parse((await run(host, [plugin], tempHome())).stdout) as Metadata;
    const names = metadata.Commands.map((c) => c.Name);
    assert.ok(names.includes('xconnect') && !names.includes('connect-to-service'), names.join(', '));
    const r = await run(host, ['-config', session, plugin, 'xconnect'], tempHome());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Incorrect Usage: the required argument `APP_NAME` was not provided/);
    assert.match(r.stdout, /cf xconnect APP_NAME SERVICE_INSTANCE/);
  });

  it('cf xssh-code: a one-time code, with cf’s session over RPC', async () => {
    const home = tempHome(); // no config.json, no own login: the session can only come from cf
    const r = await viaCf(['xssh-code'], home);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^[\w-]+\n$/);
    assert.match(readFileSync(path.join(home, 'rpc.log'), 'utf8'), /^AccessToken$/m);
  });

  it('cf xenable-ssh no-ssh-app', async () => {
    const r = await viaCf(['xenable-ssh', 'no-ssh-app'], tempHome());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      'Enabling ssh support for app no-ssh-app as developer...\nOK\n\nTIP: An app restart is required for the change to take effect.\n' +
        // Inside cf, our enable-ssh (the one with --restart) is xenable-ssh.
        "Instances start their SSH server only when they start with SSH enabled: 'cf xenable-ssh no-ssh-app --restart rolling' restarts them one by one, so the app keeps serving.\n",
    );
    const check = await viaCf(['xssh-enabled', 'no-ssh-app'], tempHome());
    assert.equal(check.stdout, "ssh support is enabled for app 'no-ssh-app'.\n");
  });

  it('a failing command: the plugin’s non-zero exit becomes cf’s 1', async () => {
    const r = await viaCf(['xssh-enabled', 'no-such-app'], tempHome());
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "App 'no-such-app' not found.\n");
    assert.equal(r.stdout, 'FAILED\n');
  });

  it('cf xssh demo-app -c: the command runs over ssh2 with its native crypto binding', async () => {
    const home = tempHome();
    const r = await viaCf(['xssh', 'demo-app', '-c', 'echo hi'], home, { LD_DEBUG: 'files', LD_DEBUG_OUTPUT: path.join(home, 'ld') });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    // ssh2 uses its binding whenever require() of it succeeds; without it, silently pure JS.
    const loaded = initialized(home);
    assert.ok(
      loaded.some((f) => f.startsWith(path.join(home, 'cache')) && f.endsWith('/sshcrypto.node')),
      `sshcrypto.node from the cache folder was initialized: ${loaded.join(', ')}`,
    );
  });

  it('web-ssh --no-open serves the page and xterm.js from inside the executable, with the token, and 403 without', async () => {
    const home = tempHome();
    const login = await run(binary, ['login', '-a', foundation.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'], home);
    assert.equal(login.code, 0, login.stderr);
    const env = { PATH: process.env.PATH, HOME: home, CF_HOME: home, XDG_CACHE_HOME: path.join(home, 'cache'), CF_SSH_TOOLS_NO_KEYCHAIN: 'true' };
    // Run from a folder with nothing of ours in it: the page can come from nowhere but the executable.
    const child = spawn(binary, ['web-ssh', 'demo-app', '--no-open'], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000).unref();
    try {
      const url = await new Promise<string>((resolve, reject) => {
        readline.createInterface({ input: child.stdout }).once('line', resolve);
        void exited.then((code) => reject(new Error(`web-ssh exited with ${code}: ${stderr}`)));
      });
      const [, origin, token = ''] = /^(http:\/\/127\.0\.0\.1:\d+)\/#token=([\w-]{43})$/.exec(url) ?? [];
      assert.ok(origin, url);
      const get = (file: string, headers: Record<string, string> = {}) => fetch(`${origin}${file}`, { headers });
      const bearer = { Authorization: `Bearer ${token}` };
      const entry = await get('/');
      assert.equal(entry.status, 200);
      assert.match(await entry.text(), /<script src="\/boot\.js"/);
      const xterm = await get('/assets/xterm.js', bearer);
      assert.equal(xterm.status, 200);
      assert.match(xterm.headers.get('content-type') ?? '', /^text\/javascript/);
      assert.ok((await xterm.text()).length > 100_000, 'xterm.js is all there');
      for (const file of ['xterm.css', 'addon-fit.js', 'addon-web-links.js', 'page.js', 'page.css']) assert.equal((await get(`/assets/${file}`, bearer)).status, 200, file);
      assert.match(await (await get('/api/instances', bearer)).text(), /"type":"web"/);
      assert.equal((await get('/assets/xterm.js')).status, 403);
      assert.equal((await get('/api/instances', { Authorization: 'Bearer wrong' })).status, 403);
    } finally {
      child.kill('SIGINT');
    }
    assert.equal(await exited, 'SIGINT', stderr);
    clearTimeout(timer);
  });

  it('cf connect-to-service --no-client --credentials key: the tunnel reaches PostgreSQL; Ctrl-C to the process group ends it cleanly', async (t) => {
    const { databases } = await foundation.control<{ databases: { kind: string }[] }>('GET', '/foundation/databases');
    if (!databases.some((d) => d.kind === 'postgres')) return t.skip('neither PostgreSQL nor PGlite is installed');
    const home = tempHome();
    // Its own process group, like a terminal's foreground job: Ctrl-C reaches cf and the plugin.
    const env = { PATH: process.env.PATH, HOME: home, CF_HOME: home, XDG_CACHE_HOME: path.join(home, 'cache') };
    const child = spawn(host, ['-config', session, binary, 'connect-to-service', 'db-app', 'demo-pg', '--no-client', '--credentials', 'key'], {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000).unref();
    await new Promise<void>((resolve, reject) => {
      readline.createInterface({ input: child.stdout }).on('line', (line) => {
        stdout += `${line}\n`;
        if (/^\s+url:/.test(line)) resolve(); // the details end with the url
      });
      void exited.then((code) => reject(new Error(`cf-host exited with ${code}: ${stdout}${stderr}`)));
    });
    assert.match(stdout, /^Tunnel to demo-pg \(postgres\) is open:$/m);
    assert.match(stdout, /^\s+database:\s+\S+$/m);
    const port = Number(/^\s+port:\s+(\d+)$/m.exec(stdout)?.[1]);
    // PostgreSQL answers an SSLRequest with one byte, S or N.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.from([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f])));
      socket.once('data', (d) => {
        resolve(d.subarray(0, 1).toString());
        socket.destroy();
      });
      socket.once('error', reject);
    });
    assert.match(answer, /^[SN]$/);
    const keys = () => foundation.control<{ name: string }[]>('GET', '/foundation/service-keys');
    assert.equal((await keys()).length, 1, 'the run made its key');
    process.kill(-child.pid!, 'SIGINT');
    assert.equal(await exited, 130, stderr);
    clearTimeout(timer);
    // The terminal's Ctrl-C reached the plugin too: it cleaned up and said nothing more (no native dump, no stack).
    assert.equal(stderr, 'Press Ctrl-C to close the tunnel.\n');
    assert.deepEqual(await keys(), [], 'the key is deleted');
  });

  it('CLI-MESSAGE-UNINSTALL exits 0', async () => {
    const r = await run(host, ['-uninstall', binary], tempHome());
    assert.deepEqual(r, { code: 0, signal: null, stdout: '', stderr: '' });
  });

  it('cf-host refuses, as cf does, a plugin with a command named like a core command', async () => {
    // The built (not packaged) CLI, renamed as scripts/pkg --rename would, so that a plugin command is called `ssh`.
    const copy = path.join(work, 'clash');
    mkdirSync(copy);
    cpSync(path.join(ROOT, 'build/src'), path.join(copy, 'src'), { recursive: true });
    cpSync(path.join(ROOT, 'build/package.json'), path.join(copy, 'package.json'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'));
    const names = path.join(copy, 'src/plugin/names.js');
    writeFileSync(names, readFileSync(names, 'utf8').replace('const RENAMES = {};', 'const RENAMES = { ssh: "ssh" };'));
    const plugin = path.join(copy, 'plugin');
    writeFileSync(plugin, `#!/bin/sh\nexec "${process.execPath}" "${path.join(copy, 'src/bin.js')}" "$@"\n`, { mode: 0o755 });
    const r = await run(host, [plugin], tempHome());
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `Plugin ${manifest.name} v${pkg.version} could not be installed as it contains commands with names that are already used: ssh.\n`);
  });
});
