// @ts-check
// Runs inside the packaged executable (scripts/pkg bundles it): loads a native addon that
// travels as a single-executable-application asset. A process can only dlopen a file, so
// the asset is written once to a private folder of this build (the user's cache folder,
// else the temp folder) and loaded from there; later runs reuse it after checking its bytes.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// Filled in by scripts/pkg-build.mjs (esbuild `define`).
// Declared for the type checker in scripts/types/esbuild-defines.d.ts.
const FOLDER = `cf-ssh-tools-${__CFST_VERSION__}-${__CFST_BUILD_ID__}`;

/** @returns {string[]} */
function cacheRoots() {
  /** @type {(string | undefined)[]} */
  const roots = [];
  const home = os.homedir();
  if (process.platform === 'win32') roots.push(process.env.LOCALAPPDATA);
  else if (process.platform === 'darwin') roots.push(home && path.join(home, 'Library', 'Caches'));
  else roots.push(process.env.XDG_CACHE_HOME, home && path.join(home, '.cache'));
  const uid = typeof process.getuid === 'function' ? `-${process.getuid()}` : '';
  // The temp folder is shared: the folder name carries the user id, and its owner is checked.
  return [...roots.filter((r) => r && path.isAbsolute(r)).map((r) => path.join(/** @type {string} */ (r), FOLDER)), path.join(os.tmpdir(), `${FOLDER}${uid}`)];
}

/**
 * A folder only we can write to, or an error.
 * @param {string} dir
 * @returns {string}
 */
function privateFolder(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a folder`);
  if (typeof process.getuid === 'function') {
    if (st.uid !== process.getuid()) throw new Error(`${dir} belongs to another user`);
    if (st.mode & 0o022) throw new Error(`${dir} is writable by others`);
  }
  return dir;
}

/**
 * The asset as a file in dir, written (atomically) unless an identical one is there.
 * @param {string} dir
 * @param {string} name
 * @param {Buffer} bytes
 * @returns {string}
 */
function materialize(dir, name, bytes) {
  const file = path.join(dir, name);
  try {
    if (fs.readFileSync(file).equals(bytes)) return file;
  } catch {
    // not there yet
  }
  const temp = path.join(dir, `.${name}.${process.pid}.${Date.now()}`);
  fs.writeFileSync(temp, bytes, { mode: 0o700 });
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    // Windows keeps a loaded DLL locked: another run may hold an identical copy open.
    if (!fs.readFileSync(file).equals(bytes)) throw err;
  }
  return file;
}

/** @type {Map<string, unknown>} */
const loaded = new Map();

/**
 * The exports of the native addon packaged as asset `name`.
 * @param {string} name
 * @returns {unknown}
 */
function loadNative(name) {
  if (loaded.has(name)) return loaded.get(name);
  const sea = require('node:sea');
  if (!sea.isSea()) throw new Error(`${name}: not running as the packaged executable`);
  // An ArrayBuffer, as Node documents it (@types/node also allows string).
  const bytes = Buffer.from(/** @type {ArrayBuffer} */ (sea.getRawAsset(name)));
  /** @type {string[]} */
  const failures = [];
  // The next folder when one fails, also at dlopen: a temp folder may be mounted noexec.
  for (const dir of cacheRoots()) {
    try {
      const mod = { exports: {} };
      process.dlopen(mod, materialize(privateFolder(dir), name, bytes));
      loaded.set(name, mod.exports);
      return mod.exports;
    } catch (err) {
      failures.push(/** @type {Error} */ (err).message);
    }
  }
  throw new Error(`cannot load ${name}: ${failures.join('; ')}`);
}

module.exports = { loadNative };
