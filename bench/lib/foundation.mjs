// @ts-check
// Where the built CLI and the test foundation are, the foundation as a process of its own
// (its CPU stays out of the bench's event loop), its control API, and the state of the code.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { collect, track } from './processes.mjs';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'build/src/bin.js');
export const FOUNDATION_MAIN = path.join(ROOT, 'build/test/foundation/main.js');

/**
 * Starts build/test/foundation/main.js on a free port; resolves once it says `api=URL`.
 * @param {{ nodeArgs?: string[], args?: string[] }} [options] node's options, and the foundation's (main.ts)
 */
export async function startFoundation({ nodeArgs = [], args = [] } = {}) {
  const child = track(spawn(process.execPath, [...nodeArgs, FOUNDATION_MAIN, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const stderr = collect(child.stderr);
  /** @type {string} */
  const api = await new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^api=(.+)$/.exec(line);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the foundation exited with ${code}: ${stderr()}`)));
    setTimeout(() => reject(new Error(`the foundation did not start: ${stderr()}`)), 30_000).unref();
  });
  const sshMatch = /ssh=127\.0\.0\.1:(\d+)/.exec(stderr());
  if (!sshMatch) throw new Error(`the foundation did not say where its SSH proxy listens: ${stderr()}`);
  return { child, api, sshPort: Number(sshMatch[1]) };
}

/**
 * A request to the foundation's API (its /foundation control routes); `ca` for an HTTPS one.
 * @param {string} api
 * @param {string} method
 * @param {string} route
 * @param {string} [ca]
 */
export function control(api, method, route, ca) {
  const url = new URL(route, api);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method, ca }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(text ? JSON.parse(text) : undefined));
    });
    req.once('error', reject);
    req.end();
  });
}

/** The commit, and whether src/ differs from it (build/ is compiled from the work tree). */
export function gitState() {
  /** @param {string[]} args */
  const git = (...args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD');
  if (!head) return 'not a git checkout';
  const changed = git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length;
  return `${head}${changed ? `, with ${changed} uncommitted change(s) under src/` : ', src/ as committed'}`;
}
