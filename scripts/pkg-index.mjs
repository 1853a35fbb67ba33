// @ts-check
// What scripts/pkg writes beside the binaries in dist/, for every cf-ssh-tools-<platform>
// binary there: SHA256SUMS and SHA1SUMS (sha256sum/sha1sum format), the plugin's entry for the
// community index (cli-plugin-repo's repo-index.yml), `list`, the JSON a plugin repository
// serves at /list (`cf add-plugin-repo NAME URL` fetches URL/list; cf checks the SHA-1), and
// THIRD-PARTY-NOTICES for the code bundled in.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';

/** @typedef {{ name: string, url?: string, email?: string }} PersonObject */
/**
 * The package.json fields used here.
 * @typedef {object} PackageJson
 * @property {string} name
 * @property {string} version
 * @property {string} [description]
 * @property {string | PersonObject} [author]
 * @property {(string | PersonObject)[]} [contributors]
 * @property {string} [homepage]
 * @property {string | { url?: string }} [repository]
 * @property {string} [company]
 */

/**
 * @typedef {object} IndexOptions
 * @property {string} outDir where the binaries are, and the index files go
 * @property {PackageJson} pkg
 * @property {string} manifestFile
 * @property {string} [baseUrl] where the binaries will be downloadable
 * @property {Record<string, { exe: string, cf: string }>} platforms file name part → its exe suffix and cf's platform name
 * @property {string} root the repository
 * @property {{ metafiles: import('esbuild').Metafile[], packages: string[], nodeLicence: string | undefined }} [notices]
 *   what THIRD-PARTY-NOTICES lists: the bundles', the package folders of the native addons, Node.js's LICENSE file
 */

/** @type {(algorithm: string, file: string) => string} */
const hash = (algorithm, file) => createHash(algorithm).update(readFileSync(file)).digest('hex');

/**
 * A commit date as cli-plugin-repo writes them (UTC, seconds).
 * @param {string} root
 * @param {string[]} args
 * @returns {string}
 */
function gitDate(root, args) {
  try {
    const out = execFileSync('git', ['log', '--format=%cI', ...args], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
      .trim()
      .split('\n');
    const date = new Date(args.includes('--reverse') ? out[0] : out[out.length - 1]);
    if (!Number.isNaN(date.getTime())) return date.toISOString().replace(/\.\d+Z$/, 'Z');
  } catch {
    // not a git checkout
  }
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** @param {PackageJson} pkg */
function authors(pkg) {
  const list = /** @type {(string | PersonObject)[]} */ ([pkg.author, ...(pkg.contributors ?? [])].filter(Boolean)).map((a) => {
    if (typeof a !== 'string') return { name: a.name, homepage: a.url, contact: a.email };
    const m = /^([^<(]+?)\s*(?:<([^>]+)>)?\s*(?:\(([^)]+)\))?$/.exec(a);
    return { name: m?.[1] ?? a, homepage: m?.[3], contact: m?.[2] };
  });
  return (list.length ? list : [{ name: `${pkg.name} maintainers` }]).map((a) => Object.fromEntries(Object.entries(a).filter(([, v]) => v)));
}

/** @param {IndexOptions} options */
export function writeIndex({ outDir, pkg, manifestFile, baseUrl, platforms, root, notices }) {
  const manifest = parse(readFileSync(manifestFile, 'utf8'));
  if (manifest.version !== pkg.version) throw new Error(`plugin-manifest.yml says version ${manifest.version}, package.json ${pkg.version}`);
  if (!baseUrl) {
    baseUrl = `https://example.invalid/${manifest.name}/v${pkg.version}`;
    console.error(`scripts/pkg: note: no --base-url; the index files point to ${baseUrl}/`);
  }
  const binaries = Object.entries(platforms)
    .map(([platform, t]) => ({ platform: t.cf, file: path.join(outDir, `${manifest.name}-${platform}${t.exe}`) }))
    .filter((b) => existsSync(b.file))
    .map((b) => ({ ...b, name: path.basename(b.file), sha1: hash('sha1', b.file), sha256: hash('sha256', b.file) }));

  writeFileSync(path.join(outDir, 'SHA256SUMS'), binaries.map((b) => `${b.sha256}  ${b.name}\n`).join(''));
  writeFileSync(path.join(outDir, 'SHA1SUMS'), binaries.map((b) => `${b.sha1}  ${b.name}\n`).join(''));

  const homepage = pkg.homepage ?? (typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url) ?? '';
  const entry = {
    authors: authors(pkg),
    binaries: binaries.map((b) => ({ checksum: b.sha1, platform: b.platform, url: `${baseUrl.replace(/\/$/, '')}/${b.name}` })),
    company: pkg.company ?? null,
    created: gitDate(root, ['--reverse']),
    description: pkg.description,
    homepage,
    name: manifest.name,
    updated: gitDate(root, ['-1']),
    version: pkg.version,
  };
  // created/updated stay plain scalars, which cli-plugin-repo's Go YAML reads as timestamps.
  writeFileSync(path.join(outDir, 'repo-index.yml'), stringify({ plugins: [entry] }, { lineWidth: 0, indentSeq: false }));
  // What cf reads from /list (name, description, version, binaries), then the rest as
  // cli-plugin-repo's own server adds it.
  const { name, description, version, binaries: bins, ...more } = entry;
  const list = { plugins: [{ name, description, version, binaries: bins, ...more, company: more.company ?? '' }] };
  writeFileSync(path.join(outDir, 'list'), `${JSON.stringify(list, null, 2)}\n`);

  if (notices) writeNotices(outDir, root, notices.metafiles, notices.packages, notices.nodeLicence);
}

/**
 * The licence of every package whose code is in a bundle or among the native assets.
 * @param {string} outDir
 * @param {string} root
 * @param {import('esbuild').Metafile[]} metafiles
 * @param {string[]} packages package folders of the native addons
 * @param {string | undefined} nodeLicence
 */
function writeNotices(outDir, root, metafiles, packages, nodeLicence) {
  /** @type {Map<string, string>} name@version → folder */
  const dirs = new Map();
  /** @param {string} dir */
  const add = (dir) => {
    const { name, version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    dirs.set(`${name}@${version}`, dir);
  };
  for (const file of metafiles.flatMap((m) => Object.keys(m.inputs))) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(file.replace(/\\/g, '/'));
    if (m?.[1]) add(path.resolve(root, m[1]));
  }
  packages.forEach(add);
  const parts = [...dirs.keys()].sort().map((key) => {
    const dir = /** @type {string} */ (dirs.get(key));
    /** @type {{ license?: string, licenses?: ({ type?: string } | string)[] }} */
    const info = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const licence = readdirSync(dir).find((f) => /^(licen[sc]e|copying)(\.|$)/i.test(f));
    // Older packages (ssh2) say `licenses: [{type}]`.
    const spdx = info.license ?? info.licenses?.map((l) => (typeof l === 'string' ? l : (l.type ?? 'unknown'))).join(' OR ') ?? 'see its licence file';
    const text = licence ? readFileSync(path.join(dir, licence), 'utf8').trim() : '(no licence file in the package)';
    return `${key} (${spdx})\n\n${text}\n`;
  });
  const node = nodeLicence
    ? `Node.js (the executable itself)\n\n${readFileSync(nodeLicence, 'utf8').trim()}\n`
    : 'Node.js (the executable itself): MIT, with the licences of its components in the LICENSE file of its release (https://github.com/nodejs/node/blob/main/LICENSE)\n';
  const intro = 'cf-ssh-tools executables are Node.js with these packages bundled in:\n';
  writeFileSync(path.join(outDir, 'THIRD-PARTY-NOTICES'), [intro, node, ...parts].join(`\n${'-'.repeat(72)}\n\n`));
}
