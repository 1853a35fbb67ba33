// @ts-check
// scripts/pkg's work (usage: scripts/pkg --help): one self-contained executable per platform
// under dist/, made with Node's single-executable-application (SEA) mechanism from a base Node
// binary, then the checksums and plugin-repository index for every binary in dist/.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { bundle } from './pkg-bundle.mjs';
import { writeIndex } from './pkg-index.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/** @typedef {{ os: string, arch: string, exe: string, keyring: string }} Platform */

/**
 * cf's platform names (cf's util/generic/architecture.go) and what each needs.
 * @type {Record<string, Platform>}
 */
const PLATFORMS = {
  linux64: { os: 'linux', arch: 'x64', exe: '', keyring: 'linux-x64-gnu' },
  win64: { os: 'win32', arch: 'x64', exe: '.exe', keyring: 'win32-x64-msvc' },
  win32: { os: 'win32', arch: 'ia32', exe: '.exe', keyring: 'win32-ia32-msvc' },
  osx: { os: 'darwin', arch: 'x64', exe: '', keyring: 'darwin-x64' }, // --arch arm64 for Apple silicon
};

const USAGE = `usage: scripts/pkg [--platform P --node NODE [--native DIR] [--arch A]] [--base-url URL] [--out DIR]

Builds dist/cf-ssh-tools-<platform>[.exe] from build/ (run npm run build first), then writes
dist/SHA256SUMS, dist/SHA1SUMS, dist/repo-index.yml and dist/list for all binaries in dist/.

  --platform P   linux64 (this machine, the default), win64, win32 or osx
  --node NODE    the base Node.js 20 binary for that platform (default: this node), e.g.
                 node-v20.x-win-x64/node.exe; use the same Node version as this machine's
  --native DIR   the platform's native addons: sshcrypto.node (ssh2), cpufeatures.node and
                 keyring.<triple>.node (@napi-rs/keyring); without them ssh2 uses its slower
                 pure-JS ciphers and login keeps tokens in a file
  --arch A       for osx: x64 (default) or arm64
  --base-url URL where the binaries will be downloadable, for the index files
  --out DIR      default dist
  --rename NAME=NEW  the command NAME is called NEW inside cf (repeatable), e.g.
                 --rename connect-to-service=xconnect when another plugin owns the name
  --no-code-cache  leave V8's code cache out of this machine's binary (to measure what it
                 saves: bench/startup.mjs)`;

/** @satisfies {NonNullable<import('node:util').ParseArgsConfig['options']>} */
const OPTIONS = {
  platform: { type: 'string' },
  node: { type: 'string' },
  native: { type: 'string' },
  arch: { type: 'string' },
  'base-url': { type: 'string' },
  out: { type: 'string', default: 'dist' },
  rename: { type: 'string', multiple: true },
  'no-code-cache': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * --rename COMMAND=NEW_NAME, checked against plugin-manifest.yml: the names cf will know the
 * commands by, for users whose other plugins already own one.
 * @param {string} file plugin-manifest.yml
 * @param {string[]} renames
 * @returns {Record<string, string>}
 */
function pluginRenames(file, renames) {
  /** @type {{ commands: { name: string, plugin_name?: string }[] }} */
  const manifest = parseYaml(readFileSync(file, 'utf8'));
  /** @type {Record<string, string>} */
  const renamed = {};
  for (const rename of renames) {
    const [name, pluginName] = rename.split('=');
    const command = manifest.commands.find((c) => c.name === name && c.plugin_name);
    if (!command || !name || !pluginName || !/^[a-z][\w-]*$/.test(pluginName)) fail(`--rename takes COMMAND=NEW_NAME for a plugin command, not '${rename}'`);
    renamed[name] = pluginName;
  }
  return renamed;
}

/**
 * @param {string} message
 * @returns {never}
 */
function fail(message) {
  console.error(`scripts/pkg: ${message}`);
  process.exit(1);
}

/** @type {(algorithm: string, data: import('node:crypto').BinaryLike) => string} */
const sha = (algorithm, data) => createHash(algorithm).update(data).digest('hex');

function hostPlatform() {
  if (process.platform === 'linux' && process.arch === 'x64') return 'linux64';
  if (process.platform === 'win32') return process.arch === 'ia32' ? 'win32' : 'win64';
  if (process.platform === 'darwin') return 'osx';
  return undefined;
}

/**
 * The native addons to embed: asset name → file.
 * @param {string} platform
 * @param {Platform} target
 * @param {string | undefined} nativeDir
 * @param {boolean} sameMachine
 * @returns {Record<string, string>}
 */
function findNatives(platform, target, nativeDir, sameMachine) {
  /** @type {Record<string, string>} */
  const natives = {};
  const candidates = {
    'sshcrypto.node': [path.join(ROOT, 'node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node')],
    'cpufeatures.node': [path.join(ROOT, 'node_modules/cpu-features/build/Release/cpufeatures.node')],
    'keyring.node': [path.join(ROOT, `node_modules/@napi-rs/keyring-${target.keyring}/keyring.${target.keyring}.node`)],
  };
  for (const [name, files] of Object.entries(candidates)) {
    // Addons built by npm install are for this machine; a cross build takes them from --native.
    const own = name === 'keyring.node' || sameMachine ? files : [];
    const given = nativeDir ? [path.join(nativeDir, name === 'keyring.node' ? `keyring.${target.keyring}.node` : name)] : [];
    const file = [...given, ...own].find((f) => existsSync(f));
    if (file) natives[name] = file;
  }
  if (!natives['sshcrypto.node']) {
    if (sameMachine)
      fail("ssh2's native crypto binding is missing (node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node): run npm install with build tools, or npm rebuild ssh2");
    console.error(`scripts/pkg: warning: no sshcrypto.node for ${platform}: ssh2 will use its slower pure-JS ciphers (give --native DIR)`);
  }
  if (!natives['keyring.node']) console.error(`scripts/pkg: warning: no keyring.${target.keyring}.node for ${platform}: login will keep tokens in a file`);
  if (!natives['cpufeatures.node']) console.error(`scripts/pkg: note: no cpufeatures.node for ${platform}: ssh2 keeps its default cipher order`);
  return natives;
}

/** @param {string} name */
function requireTool(name) {
  try {
    require.resolve(name);
  } catch {
    fail(`${name} is not installed; it is a devDependency of the packaging: npm install --no-save esbuild@0.28.2 postject@1.0.0-alpha.6`);
  }
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({ options: OPTIONS }));
  } catch (err) {
    fail(`${/** @type {Error} */ (err).message}\n${USAGE}`);
  }
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const host = hostPlatform();
  const platform = values.platform ?? host;
  if (!platform || !PLATFORMS[platform]) fail(`unknown platform ${platform}; one of ${Object.keys(PLATFORMS).join(', ')}\n${USAGE}`);
  const target = { ...PLATFORMS[platform] };
  if (platform === 'osx' && !values.arch && process.platform === 'darwin') values.arch = process.arch;
  if (values.arch) {
    if (platform !== 'osx' || !['x64', 'arm64'].includes(values.arch)) fail('--arch is x64 or arm64, for osx only');
    target.arch = values.arch;
    target.keyring = `darwin-${values.arch}`;
  }
  const sameMachine = platform === host && target.arch === process.arch && target.os === process.platform;
  if (!sameMachine && !values.node) fail(`building for ${platform} needs --node, that platform's Node.js 20 binary`);
  const baseNode = path.resolve(values.node ?? process.execPath);
  if (!existsSync(baseNode)) fail(`${baseNode} does not exist`);

  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const manifestFile = path.join(ROOT, 'plugin-manifest.yml');
  const renames = pluginRenames(manifestFile, values.rename ?? []);
  const entry = path.join(ROOT, 'build/src/bin.js');
  if (!existsSync(entry)) fail('build/src/bin.js is missing: run npm run build first');
  requireTool('esbuild');
  requireTool('postject');

  const outDir = path.resolve(ROOT, values.out);
  const work = path.join(ROOT, 'build/pkg', platform);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  mkdirSync(outDir, { recursive: true });

  // 1. One CommonJS file with every dependency; native addons become assets.
  const natives = findNatives(platform, target, values.native && path.resolve(values.native), sameMachine);
  const buildId = sha(
    'sha256',
    Buffer.concat(
      Object.keys(natives)
        .sort()
        .flatMap((n) => [Buffer.from(n), readFileSync(natives[n])]),
    ),
  ).slice(0, 12);
  const bundleFile = path.join(work, 'cf-ssh-tools.cjs');
  const { metafile, leftovers } = await bundle({ root: ROOT, entry, outfile: bundleFile, renames, version: pkg.version, buildId, natives, keyringTriple: target.keyring });
  if (leftovers.length) fail(`the bundle still requires ${leftovers.join(', ')} at run time; the executable cannot load them`);
  writeFileSync(path.join(work, 'meta.json'), JSON.stringify(metafile));

  // 2. The SEA preparation blob. Its code cache is made by the node that writes the blob,
  // so it is only used when that is the base binary itself (this machine's platform): it
  // halves packaged --help and saves about 20 ms of a command (bench/README.md, Start-up).
  // No start-up snapshot: Node 20's snapshot builder fails on node:http, which we load.
  const seaConfig = {
    main: bundleFile,
    output: path.join(work, 'sea-prep.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: sameMachine && !values['no-code-cache'],
    useSnapshot: false,
    assets: natives,
  };
  writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
  const blobMaker = sameMachine ? baseNode : process.execPath;
  if (!sameMachine) console.error(`scripts/pkg: note: the blob is made by this node (${process.version}); the base binary should be the same version`);
  const made = spawnSync(blobMaker, ['--experimental-sea-config', path.join(work, 'sea-config.json')], { cwd: work, encoding: 'utf8' });
  if (made.status !== 0) fail(`${blobMaker} --experimental-sea-config failed: ${made.stdout}${made.stderr}`);

  // 3. The base binary with the blob injected.
  const binary = path.join(outDir, `cf-ssh-tools-${platform}${target.exe}`);
  rmSync(binary, { force: true });
  copyFileSync(baseNode, binary);
  chmodSync(binary, 0o755);
  const codesign = target.os === 'darwin' && spawnSync('codesign', ['--version']).status !== null;
  if (codesign) execFileSync('codesign', ['--remove-signature', binary]);
  injectBlob(binary, seaConfig.output, target);
  if (codesign) execFileSync('codesign', ['--sign', '-', binary]);
  else if (target.os === 'darwin') console.error('scripts/pkg: note: sign the osx binary on a Mac (codesign --sign - FILE) before release');
  if (target.os === 'win32') console.error("scripts/pkg: note: the Windows binary is unsigned (signtool sign FILE) and keeps node.exe's icon and version info");

  // 4. Does it run, with its manifest and its native ssh2 crypto? (Only here on this platform.)
  if (sameMachine) smokeTest(binary, pkg.version, natives);

  // 5. Checksums and the plugin-repository index for every binary in dist/.
  writeIndex({ outDir, pkg, manifestFile, baseUrl: values['base-url'], platforms: PLATFORMS, root: ROOT, metafile, natives, baseNode });
  const size = statSync(binary).size;
  console.log(
    `${path.relative(process.cwd(), binary)} ${(size / 1024 / 1024).toFixed(1)} MiB (bundle ${(statSync(bundleFile).size / 1024).toFixed(0)} KiB, assets ${Object.keys(natives).join(', ') || 'none'})`,
  );
}

/**
 * postject, in a process of its own: its ELF library warns about every note section it reads.
 * @param {string} binary
 * @param {string} blob
 * @param {Platform} target
 */
function injectBlob(binary, blob, target) {
  const cli = path.join(path.dirname(require.resolve('postject/package.json')), 'dist/cli.js');
  const args = [cli, binary, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SENTINEL_FUSE, '--overwrite'];
  if (target.os === 'darwin') args.push('--macho-segment-name', 'NODE_SEA');
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const noise = /^warning: Can't find string offset for section name|^$/;
  const said = `${r.stdout}${r.stderr}`.split('\n').filter((l) => !noise.test(l) && !/Injection done|Start injection/.test(l));
  if (r.status !== 0) fail(`postject failed (${r.status}): ${said.join('\n')}`);
  for (const line of said) console.error(`scripts/pkg: postject: ${line}`);
}

/**
 * Runs the fresh binary in a throwaway home: --version, --help, and ssh2's binding loaded.
 * @param {string} binary
 * @param {string} version
 * @param {Record<string, string>} natives
 */
function smokeTest(binary, version, natives) {
  const home = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-pkg-'));
  try {
    const env = { PATH: process.env.PATH, HOME: home, CF_HOME: home, XDG_CACHE_HOME: path.join(home, 'cache'), CF_SSH_TOOLS_NO_KEYCHAIN: 'true' };
    /** @type {(args: string[], extra?: Record<string, string>) => import('node:child_process').SpawnSyncReturns<string>} */
    const run = (args, extra = {}) => spawnSync(binary, args, { env: { ...env, ...extra }, encoding: 'utf8', timeout: 30_000 });
    const v = run(['--version']);
    if (v.status !== 0 || v.stdout.trim() !== version) fail(`${binary} --version gave ${v.status}: ${v.stdout}${v.stderr}`);
    const help = run(['--help']);
    if (help.status !== 0 || !help.stdout.includes('ssh-code')) fail(`${binary} --help gave ${help.status}: ${help.stdout}${help.stderr}`);
    if (process.platform !== 'linux') return;
    // `ssh` loads ssh2 (and so its binding) before it finds there is no session; the dynamic
    // loader's log shows which shared objects were initialized.
    const log = path.join(home, 'ld');
    run(['ssh', 'some-app'], { LD_DEBUG: 'files', LD_DEBUG_OUTPUT: log });
    const loaded = readdirSync(home)
      .filter((f) => f.startsWith('ld.'))
      .map((f) => readFileSync(path.join(home, f), 'utf8'))
      .join('');
    for (const name of ['sshcrypto.node', 'cpufeatures.node'].filter((n) => natives[n])) {
      if (!new RegExp(`calling init: \\S+/${name.replace('.', '\\.')}\\n`).test(loaded)) fail(`${binary} did not load its embedded ${name}`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err) => fail(err.stack ?? String(err)));
