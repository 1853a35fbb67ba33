// @ts-check
// ssh2's optional native addons, built for a packaged executable's Node.js and CPU: sshcrypto.node
// (ssh2's ciphers through OpenSSL inside node) and cpufeatures.node (cpu-features: whether the
// CPU has AES instructions, which decides ssh2's cipher order). node_modules stays as it is: the
// addons' sources are copied to build/pkg/addons/ and built there with npm's own node-gyp against
// the headers of the fetched Node.js build, with a cross compiler for another CPU. Only Linux
// targets are built here (Windows and macOS addons need those systems' compilers and SDKs); a
// finished build is reused while its sources, Node.js version and compiler stay the same.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The addons, where their sources are in node_modules, and a sign that a source is not yet
 * ready for Node 26: ssh2 1.17.0 calls Context::GetIsolate, which Node 26's V8 has dropped;
 * patches/ssh2+1.17.0+v8-isolate.patch, applied at npm install, mends it.
 */
const ADDONS = [
  {
    asset: 'sshcrypto.node',
    source: 'node_modules/ssh2/lib/protocol/crypto',
    files: ['binding.gyp', 'src'],
    unmended: { file: 'src/binding.cc', text: 'context->GetIsolate()', patch: 'patches/ssh2+1.17.0+v8-isolate.patch' },
    gypArgs: ['--real_openssl_major=3'], // Node 26 carries OpenSSL 3
  },
  {
    asset: 'cpufeatures.node',
    source: 'node_modules/cpu-features',
    files: ['binding.gyp', 'buildcheck.gypi', 'src', 'deps'],
    unmended: undefined,
    gypArgs: [],
  },
];

/** @typedef {{ arch: 'x64' | 'arm64', cc: string, cxx: string }} Toolchain */

/**
 * The C/C++ compilers for a Linux CPU on this Linux machine: its own for its own CPU, Debian's
 * cross compiler for arm64 on x64; or what is missing.
 * @param {'x64' | 'arm64'} arch
 * @returns {{ toolchain?: Toolchain, missing?: string[] }}
 */
export function linuxToolchain(arch) {
  if (arch !== process.arch && !(arch === 'arm64' && process.arch === 'x64')) return { missing: [`a compiler for linux ${arch} on ${process.arch}`] };
  const prefix = arch === process.arch ? '' : 'aarch64-linux-gnu-';
  const [cc, cxx] = [`${prefix}gcc`, `${prefix}g++`];
  const missing = [cc, cxx, 'make', 'python3'].filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0);
  return missing.length ? { missing } : { toolchain: { arch, cc, cxx } };
}

/**
 * Every file under dir, hashed with its relative path (the cache key of a build).
 * @param {import('node:crypto').Hash} hash
 * @param {string} dir
 * @param {string} rel
 */
function hashTree(hash, dir, rel) {
  const file = path.join(dir, rel);
  if (statSync(file).isDirectory()) {
    for (const entry of readdirSync(file).sort()) hashTree(hash, dir, path.join(rel, entry));
  } else hash.update(rel).update(readFileSync(file));
}

/**
 * Builds (or reuses) sshcrypto.node and cpufeatures.node for a Linux target.
 * @param {object} options
 * @param {string} options.root the repository
 * @param {string} options.workDir build/pkg/addons
 * @param {string} options.nodeDir the fetched Node.js build (its include/node)
 * @param {string} options.nodeVersion
 * @param {Toolchain} options.toolchain
 * @returns {{ natives: Record<string, string>, problems: string[] }} asset name → file, and what could not be built
 */
export function buildLinuxAddons({ root, workDir, nodeDir, nodeVersion, toolchain }) {
  // npm's own node-gyp (npm names it to scripts it runs; else it is in npm's global folder).
  const nodeGyp = process.env.npm_config_node_gyp ?? path.join(execFileSync('npm', ['root', '-g'], { encoding: 'utf8' }).trim(), 'npm/node_modules/node-gyp/bin/node-gyp.js');
  if (!existsSync(nodeGyp)) return { natives: {}, problems: [`npm's node-gyp is not at ${nodeGyp}`] };
  /** @type {Record<string, string>} */
  const natives = {};
  /** @type {string[]} */
  const problems = [];
  for (const addon of ADDONS) {
    const source = path.join(root, addon.source);
    const absent = addon.files.filter((f) => !existsSync(path.join(source, f)));
    if (absent.length) {
      problems.push(`${addon.asset}: ${addon.source} is not installed, or without ${absent.join(', ')}`);
      continue;
    }
    const { unmended } = addon;
    if (unmended && readFileSync(path.join(source, unmended.file), 'utf8').includes(unmended.text)) {
      problems.push(
        `${addon.asset}: ${addon.source}/${unmended.file} does not compile for Node ${nodeVersion} without ${unmended.patch}, which npm install applies with GNU patch: install patch, then npm install`,
      );
      continue;
    }
    const hash = createHash('sha256').update(JSON.stringify({ nodeVersion, toolchain, addon }));
    for (const f of addon.files) hashTree(hash, source, f);
    const dir = path.join(workDir, `${path.basename(addon.asset, '.node')}-linux-${toolchain.arch}`);
    const built = path.join(dir, 'build/Release', addon.asset);
    const stamp = path.join(dir, '.source-hash');
    const key = hash.digest('hex');
    if (existsSync(built) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) {
      natives[addon.asset] = built;
      continue;
    }
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const f of addon.files) cpSync(path.join(source, f), path.join(dir, f), { recursive: true });
    // binding.gyp finds nan's headers with require('nan'): the copy is under root, whose node_modules has it.
    const r = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--arch=${toolchain.arch}`, `--nodedir=${nodeDir}`, '-j', '2', ...addon.gypArgs], {
      cwd: dir,
      env: { ...process.env, CC: toolchain.cc, CXX: toolchain.cxx },
      encoding: 'utf8',
    });
    if (r.status !== 0 || !existsSync(built)) {
      const errors = `${r.stdout}${r.stderr}`.split('\n').filter((l) => /error/i.test(l) && !l.startsWith('gyp info'));
      problems.push(`${addon.asset}: node-gyp failed for linux ${toolchain.arch}: ${errors.slice(0, 3).join(' | ') || r.error?.message || `exit ${r.status}`}`);
      continue;
    }
    writeFileSync(stamp, key);
    natives[addon.asset] = built;
  }
  return { natives, problems };
}
