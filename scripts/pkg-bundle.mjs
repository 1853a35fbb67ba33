// @ts-check
// The esbuild step of scripts/pkg: build/src/bin.js and every runtime dependency in one
// CommonJS file that Node's single-executable mechanism can run (it runs one CommonJS script
// whose require() knows only Node's built-in modules). Three things do not bundle as they are,
// and the plugins below deal with them:
//   - src/plugin/names.ts's RENAMES: the names given with scripts/pkg --rename;
//   - createRequire(import.meta.url) (src/ssh/keepalive.ts): replaced by the bundle's require;
//   - native addons (*.node): loaded from the executable's assets by scripts/pkg-native.cjs;
//   - src/web/assets.ts, which reads web-ssh's page and xterm.js from files: inlined.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isBuiltin } from 'node:module';
import { pathToFileURL } from 'node:url';

const SRC_FILE = /[\\/]build[\\/]src[\\/].*\.js$/;

/** import.meta.url has no meaning in a CommonJS bundle; any file URL does for what src uses it for. */
const META_URL_BANNER = 'var __cfst_import_meta_url = require("node:url").pathToFileURL(process.execPath).href;';

/**
 * The names commands go by inside cf, where --rename changed them: src/plugin/names.ts keeps an
 * empty RENAMES map, which the bundle's copy gets filled in.
 * @param {Record<string, string>} renames command name → its name inside cf
 * @returns {import('esbuild').Plugin}
 */
function renamesPlugin(renames) {
  return {
    name: 'cfst-renames',
    setup(build) {
      build.onLoad({ filter: /[\\/]build[\\/]src[\\/]plugin[\\/]names\.js$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const empty = 'const RENAMES = {};';
        if (!text.includes(empty)) throw new Error(`${args.path} no longer has "${empty}" for --rename to fill in`);
        return { loader: 'js', contents: text.replace(empty, `const RENAMES = ${JSON.stringify(renames)};`) };
      });
    },
  };
}

/**
 * web-ssh's page and terminal emulator (src/web/assets.ts reads them from src/web/page/ and
 * node_modules): the module is run here, at build time, and the bundle gets a copy that returns
 * what it read, so that the executable serves the page with no files beside it.
 * @returns {import('esbuild').Plugin}
 */
function webAssetsPlugin() {
  return {
    name: 'cfst-web-assets',
    setup(build) {
      build.onLoad({ filter: /[\\/]build[\\/]src[\\/]web[\\/]assets\.js$/ }, async (args) => {
        /** @type {{ readAssets: () => Promise<Map<string, { contentType: string, body: string }>> }} */
        const module = await import(pathToFileURL(args.path).href);
        const assets = Object.fromEntries(await module.readAssets());
        return { loader: 'js', contents: `const ASSETS = ${JSON.stringify(assets)};\nexport async function readAssets() { return new Map(Object.entries(ASSETS)); }\n` };
      });
    },
  };
}

/**
 * `const require = createRequire(import.meta.url)` then `require('pkg/deep/file.js')`: the
 * file's createRequire becomes one that knows exactly the modules the file asks for, each a
 * literal require() that esbuild bundles.
 * @returns {import('esbuild').Plugin}
 */
function createRequirePlugin() {
  return {
    name: 'cfst-create-require',
    setup(build) {
      build.onResolve({ filter: /^(node:)?module$/ }, (args) => {
        if (args.namespace !== 'file' || !SRC_FILE.test(args.importer)) return undefined;
        return { path: args.importer, namespace: 'cfst-module' };
      });
      build.onLoad({ filter: /.*/, namespace: 'cfst-module' }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        const names = [...source.matchAll(/\b(\w+)\s*=\s*createRequire\(/g)].map((m) => m[1]);
        /** @type {Set<string>} */
        const ids = new Set();
        for (const n of names) {
          for (const m of source.matchAll(new RegExp(`\\b${n}\\(\\s*(['"])([^'"]+)\\1\\s*\\)`, 'g'))) ids.add(m[2]);
        }
        const cases = [...ids].map((id) => `case ${JSON.stringify(id)}: return require(${JSON.stringify(id)});`).join('\n');
        return {
          loader: 'js',
          resolveDir: path.dirname(args.path),
          contents: `
            export * from 'node:module';
            function bundledRequire(id) {
              switch (id) {
                ${cases}
                default: {
                  if (require('node:module').isBuiltin(id)) return require(id);
                  throw new Error('cf-ssh-tools: ' + id + ' is not in the packaged executable');
                }
              }
            }
            export function createRequire() { return bundledRequire; }
            export default { ...require('node:module'), createRequire };`,
        };
      });
    },
  };
}

/**
 * Native addons. Each one the target needs is an SEA asset (natives: asset name → file);
 * a require of it becomes loadNative(name). Addons of other platforms (@napi-rs/keyring tries
 * them in turn) and addons missing for a cross build throw, as a failed require would.
 * @param {{ natives: Natives, keyringTriple: string, keyringVersion: string, loader: string }} options
 * @returns {import('esbuild').Plugin}
 */
function nativePlugin({ natives, keyringTriple, keyringVersion, loader }) {
  /** @param {string} request */
  const assetFor = (request) => {
    const base = path.basename(request);
    if (base === 'sshcrypto.node') return 'sshcrypto.node';
    if (base === 'cpufeatures.node') return 'cpufeatures.node';
    if (request === `@napi-rs/keyring-${keyringTriple}` || base === `keyring.${keyringTriple}.node`) return 'keyring.node';
    return undefined;
  };
  return {
    name: 'cfst-native',
    setup(build) {
      build.onResolve({ filter: /\.node$|^@napi-rs\/keyring-/ }, (args) => {
        if (args.path.endsWith('/package.json')) return { path: args.path, namespace: 'cfst-keyring-package' };
        const asset = assetFor(args.path);
        if (asset && natives[asset]) return { path: asset, namespace: 'cfst-native' };
        return { path: args.path, namespace: 'cfst-absent' };
      });
      build.onLoad({ filter: /.*/, namespace: 'cfst-keyring-package' }, () => ({
        loader: 'json',
        contents: JSON.stringify({ version: keyringVersion }),
      }));
      build.onLoad({ filter: /.*/, namespace: 'cfst-native' }, (args) => ({
        loader: 'js',
        resolveDir: path.dirname(loader),
        contents: `module.exports = require(${JSON.stringify(loader)}).loadNative(${JSON.stringify(args.path)});`,
      }));
      build.onLoad({ filter: /.*/, namespace: 'cfst-absent' }, (args) => ({
        loader: 'js',
        contents: `const err = new Error(${JSON.stringify(`Cannot find module '${args.path}' (not in this packaged executable)`)});
          err.code = 'MODULE_NOT_FOUND';
          throw err;`,
      }));
    },
  };
}

/**
 * Optional packages that dependencies try to load and do without (not installed here): in the
 * bundle they fail to load as they do when missing, instead of reaching for node_modules.
 *   kerberos           https-proxy-agent's Negotiate proxy authentication (proxy-agent-negotiate)
 *   supports-color     debug's colours
 *   ./keyring.wasi.cjs @napi-rs/keyring's WebAssembly fallback
 *   bufferutil, utf-8-validate  ws's native speed-ups (web-ssh)
 */
const OPTIONAL = ['kerberos', 'supports-color', './keyring.wasi.cjs', 'bufferutil', 'utf-8-validate'];

/** @returns {import('esbuild').Plugin} */
function optionalPlugin() {
  return {
    name: 'cfst-optional',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => (OPTIONAL.includes(args.path) ? { path: args.path, namespace: 'cfst-absent' } : undefined));
    },
  };
}

/**
 * Native addons to embed: SEA asset name → file.
 * @typedef {Record<string, string>} Natives
 */

/**
 * @typedef {object} BundleOptions
 * @property {string} root the repository
 * @property {string} entry build/src/bin.js
 * @property {string} outfile
 * @property {Record<string, string>} renames command name → its name inside cf (scripts/pkg --rename)
 * @property {string} version __CFST_VERSION__
 * @property {string} buildId __CFST_BUILD_ID__
 * @property {Natives} natives
 * @property {string} keyringTriple the platform triple of the keyring addon, e.g. linux-x64-gnu
 * @property {boolean} [minify] default true
 */

/**
 * Bundles entry into outfile; returns esbuild's metafile.
 * @param {BundleOptions} options
 * @returns {Promise<{ metafile: import('esbuild').Metafile, leftovers: string[] }>}
 */
export async function bundle({ root, entry, outfile, renames, version, buildId, natives, keyringTriple, minify = true }) {
  const esbuild = await import('esbuild');
  const keyringVersion = JSON.parse(readFileSync(path.join(root, 'node_modules/@napi-rs/keyring/package.json'), 'utf8')).version;
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify,
    keepNames: true, // errors name themselves after their class (new.target.name)
    legalComments: 'none', // the licences go to THIRD-PARTY-NOTICES beside the binaries
    metafile: true,
    logLevel: 'silent',
    banner: { js: META_URL_BANNER },
    define: {
      'import.meta.url': '__cfst_import_meta_url',
      __CFST_VERSION__: JSON.stringify(version),
      __CFST_BUILD_ID__: JSON.stringify(buildId),
    },
    plugins: [
      webAssetsPlugin(),
      optionalPlugin(),
      renamesPlugin(renames),
      createRequirePlugin(),
      nativePlugin({ natives, keyringTriple, keyringVersion, loader: path.join(root, 'scripts/pkg-native.cjs') }),
    ],
  });
  for (const warning of result.warnings) console.error(`scripts/pkg: esbuild: ${warning.text} (${warning.location?.file}:${warning.location?.line})`);
  // Whatever esbuild left as a runtime require must be a built-in: the executable has nothing else.
  const leftovers = Object.values(result.metafile.outputs)
    .flatMap((o) => o.imports)
    .filter((i) => i.external && !isBuiltin(i.path))
    .map((i) => i.path);
  return { metafile: result.metafile, leftovers: [...new Set(leftovers)] };
}
