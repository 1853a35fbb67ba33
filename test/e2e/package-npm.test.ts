// The npm package, for people who have Node.js: `npm pack` of the project, installed globally into
// a prefix of its own (its dependencies from the registry, as a user's install gets them), then
// the installed command, far from this checkout, against the foundation.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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

  // The installed command's own node_modules only: no NODE_PATH, no cwd near the checkout.
  const run = (args: string[], home: string): Promise<CliResult> =>
    runProgram(command, args, { cwd: home, env: { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' }, timeoutMs: 60_000 });

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
    const prefix = path.join(work, 'prefix');
    execFileSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', path.join(work, info.filename)], {
      cwd: work,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    command = path.join(prefix, 'bin/cf-ssh-tools');
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
    const patchFile = readdirSync(path.join(ROOT, 'patches')).find((f) => f.startsWith('ssh2+'));
    if (patchFile && spawnSync('patch', ['--version'], { stdio: 'ignore' }).status === 0) {
      const applied = spawnSync('patch', ['-p1', '-s', '-f', '--dry-run', '-R', '-d', ssh2, '-i', path.join(ROOT, 'patches', patchFile)]);
      assert.equal(applied.status, 0, `postinstall applied patches/${patchFile}`);
    }
  });
});
