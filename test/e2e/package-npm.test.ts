// The npm package, for people who have Node.js: `npm pack` of the project, installed globally into
// a prefix of its own (its dependencies from the registry, as a user's install gets them), then
// the installed command, far from this checkout, against the foundation.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type CliResult, runProgram, tempHome } from '../helpers/cli.js';
import { type RunningFoundation, ROOT, startFoundationProcess } from '../helpers/foundation.js';

const registry = spawnSync('npm', ['ping'], { stdio: 'ignore', timeout: 30_000 }).status === 0;

describe('the npm package', { skip: registry ? false : 'the npm registry does not answer: the dependencies cannot be installed', timeout: 300_000 }, () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; files: string[] };
  let work: string;
  let command: string;
  let packed: string[];
  let foundation: RunningFoundation;

  let tarball: string;

  /** npm install -g of the packed tarball into `prefix`, with `env` added (another Node.js first on PATH, say). */
  const install = (prefix: string, env: Record<string, string> = {}) => {
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], {
      cwd: work,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    return prefix;
  };

  // The installed command's own node_modules only: no NODE_PATH, no cwd near the checkout.
  const run = (args: string[], home: string, file = command, pathFirst = ''): Promise<CliResult> =>
    runProgram(file, args, {
      cwd: home,
      env: { PATH: `${pathFirst}${process.env.PATH}`, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' },
      timeoutMs: 60_000,
    });

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-npm-'));
    // build/ is there already (npm test builds first); prepack would rebuild it under the other running tests.
    const [info] = JSON.parse(
      execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as {
      filename: string;
      files: { path: string }[];
    }[];
    assert.ok(info);
    packed = info.files.map((f) => f.path);
    tarball = path.join(work, info.filename);
    command = path.join(install(path.join(work, 'prefix')), 'bin/cf-ssh-tools');
    foundation = await startFoundationProcess(['--no-databases']);
  });
  after(async () => {
    await foundation?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds the built CLI and its postinstall patches, no sources, tests or maps', () => {
    assert.ok(packed.includes('build/src/bin.js') && packed.includes('build/package.json') && packed.includes('patches/apply.mjs'), packed.join(', '));
    assert.deepEqual(
      packed.filter((f) => !/^build\/src\/.*\.js$|^build\/package\.json$|^patches\/|^(package\.json|README\.md|LICENSE)$/.test(f)),
      [],
    );
  });

  it('installed with npm install -g: --version, --help, and ssh through its own ssh2 (patched by postinstall)', async () => {
    const home = tempHome();
    assert.deepEqual(await run(['--version'], home), { code: 0, signal: null, stdout: `${pkg.version}\n`, stderr: '' });
    const help = await run(['--help'], home);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^\s+ssh-code\s/m);
    const login = await run(['login', '-a', foundation.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'], home);
    assert.equal(login.code, 0, login.stderr);
    assert.deepEqual(await run(['ssh', 'demo-app', '-c', 'echo hi'], home), { code: 0, signal: null, stdout: 'hi\n', stderr: '' });
    const ssh2 = path.join(path.dirname(command), '../lib/node_modules/cf-ssh-tools/node_modules/ssh2');
    assert.ok(existsSync(ssh2), 'ssh2 is installed with the package');
    const patchFiles = readdirSync(path.join(ROOT, 'patches')).filter((f) => f.startsWith('ssh2+') && f.endsWith('.patch'));
    assert.ok(patchFiles.length > 0);
    if (spawnSync('patch', ['--version'], { stdio: 'ignore' }).status === 0) {
      for (const patchFile of patchFiles) {
        const applied = spawnSync('patch', ['-p1', '-s', '-f', '--dry-run', '-R', '-d', ssh2, '-i', path.join(ROOT, 'patches', patchFile)]);
        assert.equal(applied.status, 0, `postinstall applied patches/${patchFile}`);
      }
    }
  });

  it('installed with Node.js 26: ssh2’s binding is built from the mended source, loads, and carries ssh', async (t) => {
    if (process.platform !== 'linux' || process.arch !== 'x64') return t.skip('Node.js 26 for this test is the linux-x64 build');
    if (spawnSync('patch', ['--version'], { stdio: 'ignore' }).status !== 0) return t.skip('GNU patch is not installed: postinstall cannot mend ssh2 for Node 26');
    // Its own cache folder: scripts/pkg may be filling build/pkg/cache at the same time.
    const { fetchNode } = (await import(pathToFileURL(path.join(ROOT, 'scripts/pkg-fetch.mjs')).href)) as {
      fetchNode: (cacheDir: string, build: 'linux-x64') => { dir: string; node: string };
    };
    const node26 = fetchNode(path.join(work, 'node-cache'), 'linux-x64');
    const bin = `${path.dirname(node26.node)}${path.delimiter}`;
    // npm and node-gyp run on Node 26 (first on PATH) and build against its headers.
    const prefix = install(path.join(work, 'prefix-node26'), { PATH: `${bin}${process.env.PATH}`, npm_config_nodedir: node26.dir });
    const ssh2 = path.join(prefix, 'lib/node_modules/cf-ssh-tools/node_modules/ssh2');
    const binding = path.join(ssh2, 'lib/protocol/crypto/build/Release/sshcrypto.node');
    assert.ok(existsSync(binding), 'postinstall built sshcrypto.node once the patch mended binding.cc');
    const loads = spawnSync(node26.node, ['-e', `require(${JSON.stringify(binding)})`], { encoding: 'utf8' });
    assert.equal(loads.status, 0, loads.stderr);
    const home = tempHome();
    const command26 = path.join(prefix, 'bin/cf-ssh-tools');
    const login = await run(['login', '-a', foundation.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'], home, command26, bin);
    assert.equal(login.code, 0, login.stderr);
    assert.deepEqual(await run(['ssh', 'demo-app', '-c', 'echo "$CF_INSTANCE_INDEX"'], home, command26, bin), { code: 0, signal: null, stdout: '0\n', stderr: '' });
  });
});
