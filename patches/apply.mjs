#!/usr/bin/env node
// @ts-check
// npm's postinstall: applies each patches/NAME+VERSION.patch to node_modules/NAME when that
// version is installed, once (a patch found applied already is left alone). Each patch is a
// change written as its upstream would take it, carried here until a release has it; see
// patches/README.md for what each one does and why.
//
// A package at another version is not patched, with a warning: the patch has to be looked at
// again for it. A patch that no longer applies to its own version fails the install. Without
// the patch program nothing is patched, with a warning: the patches make things faster, not
// work, and npm is all an install may ask for.
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

let failed = false;
for (const name of readdirSync(PATCHES).filter((f) => f.endsWith('.patch'))) {
  const [, pkg, version] = /^(.+)\+([^+]+)\.patch$/.exec(name) ?? [];
  if (!pkg || !version) throw new Error(`patches/${name}: name it PACKAGE+VERSION.patch`);
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
  }
}
if (failed) process.exitCode = 1;
