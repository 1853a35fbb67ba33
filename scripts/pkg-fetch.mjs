// @ts-check
// The packages scripts/pkg builds from, fetched through the npm registry with `npm pack` (which
// fetches any platform's package, and works offline from npm's cache once it has them), checked
// against pinned integrity values, unpacked once into a cache folder and reused from there:
//   - the official Node.js builds, published as node-<os>-<arch> (package/bin/node[.exe] and,
//     but for Windows, package/include/node: the headers node-gyp builds addons against);
//   - the prebuilt @napi-rs/keyring addon of each platform, pinned by package-lock.json.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The Node.js every executable is made of: the newest release the registry has for all of linux-x64, linux-arm64, darwin-x64 and win-x64. */
export const NODE_VERSION = '26.10.0';

/** `npm view node-<p>@NODE_VERSION dist.integrity`, checked after every fetch. */
const NODE_INTEGRITY = {
  'linux-x64': 'sha512-OmAztarr1gK4PD+sNyoku4N5Q40d8eqMuLjNa/zRvxF33aCsVKVIQLs4V5HYPWSWWlMiTdkmbZE/6Phigma0hw==',
  'linux-arm64': 'sha512-idArV/cmqW9M9ODyGlbOIiyxFourDh1mJB0SdKCdMbSZjjef9CLEN3o1/eE4yf+B0+5BD+F74MpTTHiB3XXTBQ==',
  'darwin-x64': 'sha512-tR3FX20zCnXJeYvVCZ+ROiA9bHyFVHpges6RoPqtWMTQ4oY2KBcCXlTmcxFZ8w8uApF0IEXIduRPDmAFyxtZ2w==',
  'win-x64': 'sha512-GCIKoDIOUTgULKxFNlfumjEmEgIpBB/7csJ11w6WbFcC/dyZ9UH2YAFr1fuNsdEmPZOAVpT2Cv9QKPwluhOCIQ==',
};

/** @typedef {keyof typeof NODE_INTEGRITY} NodeBuild */

/**
 * The package spec@version, unpacked under cacheDir (its `package/` folder), fetched if not yet.
 * @param {string} cacheDir
 * @param {string} name
 * @param {string} version
 * @param {string} integrity an SRI string (sha512-…)
 * @returns {string} the unpacked package folder
 */
function unpacked(cacheDir, name, version, integrity) {
  const dir = path.join(cacheDir, `${name.replace(/^@/, '').replace('/', '+')}@${version}`);
  const done = path.join(dir, '.integrity');
  if (existsSync(done) && readFileSync(done, 'utf8') === integrity) return path.join(dir, 'package');
  mkdirSync(cacheDir, { recursive: true });
  const temp = mkdtempSync(path.join(cacheDir, '.fetch-'));
  try {
    // --prefer-offline: npm's cache answers without asking the registry when it has the tarball.
    const out = execFileSync('npm', ['pack', `${name}@${version}`, '--json', '--prefer-offline', '--pack-destination', temp], {
      cwd: temp,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    const [{ filename }] = /** @type {{ filename: string }[]} */ (JSON.parse(out));
    const tarball = path.join(temp, filename);
    const [algorithm, expected] = integrity.split(/-(.*)/s);
    const actual = createHash(algorithm ?? 'sha512')
      .update(readFileSync(tarball))
      .digest('base64');
    if (actual !== expected) throw new Error(`the tarball's ${algorithm} is ${actual}, not the pinned ${expected}`);
    execFileSync('tar', ['-xzf', tarball, '-C', temp, '--no-same-owner']);
    rmSync(tarball);
    writeFileSync(path.join(temp, '.integrity'), integrity);
    rmSync(dir, { recursive: true, force: true });
    renameSync(temp, dir);
  } catch (err) {
    rmSync(temp, { recursive: true, force: true });
    const e = /** @type {Error & { stderr?: string }} */ (err);
    const said = (e.stderr ?? '').split('\n').find((l) => /npm (error|ERR!)/.test(l));
    // npm's own line says why (ECONNREFUSED, E404, ...); else the error is ours (integrity, tar).
    throw new Error(`cannot fetch ${name}@${version}: ${said ?? e.message.split('\n')[0]} (it comes from the npm registry, or npm's cache when offline)`);
  }
  return path.join(dir, 'package');
}

/**
 * The official Node.js build for a platform, at NODE_VERSION.
 * @param {string} cacheDir
 * @param {NodeBuild} build e.g. linux-x64
 * @returns {{ dir: string, node: string, headers: string | undefined, licence: string | undefined }}
 */
export function fetchNode(cacheDir, build) {
  const dir = unpacked(cacheDir, `node-${build}`, NODE_VERSION, NODE_INTEGRITY[build]);
  const headers = path.join(dir, 'include/node');
  const licence = path.join(dir, 'LICENSE');
  return {
    dir,
    node: path.join(dir, 'bin', build.startsWith('win') ? 'node.exe' : 'node'),
    headers: existsSync(headers) ? dir : undefined,
    licence: existsSync(licence) ? licence : undefined,
  };
}

/**
 * The @napi-rs/keyring addon for a platform triple, at the version and integrity package-lock.json pins.
 * @param {string} root the repository
 * @param {string} cacheDir
 * @param {string} triple e.g. darwin-x64
 * @returns {string} the .node file
 */
export function fetchKeyring(root, cacheDir, triple) {
  const name = `@napi-rs/keyring-${triple}`;
  const installed = path.join(root, 'node_modules', name, `keyring.${triple}.node`);
  if (existsSync(installed)) return installed;
  /** @type {{ packages: Record<string, { version?: string, integrity?: string }> }} */
  const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const pinned = lock.packages[`node_modules/${name}`];
  if (!pinned?.version || !pinned.integrity) throw new Error(`package-lock.json pins no ${name}`);
  return path.join(unpacked(cacheDir, name, pinned.version, pinned.integrity), `keyring.${triple}.node`);
}
