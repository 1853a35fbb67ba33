#!/usr/bin/env node
// @ts-check
// npm's postinstall: applies each patches/NAME+VERSION.patch to node_modules/NAME when that
// version is installed, once (a patch found applied already is left alone). Each patch is a
// change written as its upstream would take it, carried here until a release has it; see
// patches/README.md for what each one does and why.
//
// A package may have several patches, NAME+VERSION+TOPIC.patch, each applied on its own.
//
// A package at another version is not patched, with a warning: the patch has to be looked at
// again for it. A patch that no longer applies to its own version fails the install. Without
// the patch program nothing is patched, with a warning: the patches make things faster, not
// work, and npm is all an install may ask for.
//
// A patch that mends native sources (C, C++, binding.gyp) is for a package whose own install
// could not build them (ssh2's binding on Node 26): where that package has no built addon, its
// install script runs again once the patch is in.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PATCHES = path.join(ROOT, 'patches');

/**
 * GNU patch, quietly, with `args`, reading `file`; whether it succeeded, and what it said.
 * @param {string} dir
 * @param {string} file
 * @param {string[]} args
 */
function patch(dir, file, args) {
  const r = spawnSync('patch', ['-p1', '-s', '-f', '-d', dir, '-i', file, ...args], { encoding: 'utf8' });
  if (r.error) return { ok: false, missing: true, said: r.error.message };
  return { ok: r.status === 0, missing: false, said: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * Whether a compiled addon (build/Release/*.node) is anywhere in the package.
 * @param {string} dir
 */
function hasBuiltAddon(dir) {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((file) => /(^|[\\/])build[\\/]Release[\\/][^\\/]+\.node$/.test(file));
}

/**
 * The package's own install script (node-gyp through npm's PATH), run again in its folder.
 * @param {string} pkg
 * @param {string} dir
 */
function buildAgain(pkg, dir) {
  const script = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')).scripts?.install;
  if (!script) return;
  console.log(`patches: building ${pkg}'s native code again with its mended sources (${script})`);
  const r = spawnSync(script, { cwd: dir, shell: true, stdio: 'inherit' });
  if (r.status !== 0 || !hasBuiltAddon(dir)) console.warn(`patches: ${pkg}'s native code did not build; it works without it, only slower.`);
}

let failed = false;
/** Packages whose native sources a patch mended just now: name → folder. @type {Map<string, string>} */
const mendedNative = new Map();
for (const name of readdirSync(PATCHES).filter((f) => f.endsWith('.patch'))) {
  const [, pkg, version] = /^([^+]+)\+([^+]+)(?:\+[\w-]+)?\.patch$/.exec(name) ?? [];
  if (!pkg || !version) throw new Error(`patches/${name}: name it PACKAGE+VERSION.patch or PACKAGE+VERSION+TOPIC.patch`);
  const dir = path.join(ROOT, 'node_modules', pkg);
  const manifest = path.join(dir, 'package.json');
  if (!existsSync(manifest)) continue; // not installed (npm install --omit=...): nothing to patch
  const installed = JSON.parse(readFileSync(manifest, 'utf8')).version;
  const file = path.join(PATCHES, name);
  if (installed !== version) {
    console.warn(`patches/${name} is for ${pkg} ${version}, but ${installed} is installed: not applied. Check whether ${installed} needs it.`);
    continue;
  }
  const before = patch(dir, file, ['--dry-run', '-R']);
  if (before.missing) {
    console.warn(`patches/${name} not applied: there is no patch program (${before.said}). ${pkg} works unpatched, only slower; install GNU patch and run npm install again.`);
    continue;
  }
  if (before.ok) continue; // applied before
  const applied = patch(dir, file, ['-N']);
  if (!applied.ok) {
    console.error(`patches/${name} does not apply to node_modules/${pkg}: ${applied.said}`);
    failed = true;
  } else if (/^\+\+\+ \S+\.(c|cc|cpp|h|gyp)(\s|$)/m.test(readFileSync(file, 'utf8'))) mendedNative.set(pkg, dir);
}
for (const [pkg, dir] of mendedNative) if (!hasBuiltAddon(dir)) buildAgain(pkg, dir);
if (failed) process.exitCode = 1;
