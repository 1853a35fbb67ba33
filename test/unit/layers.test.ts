// The layers of src/ and what each may import (docs/ARCHITECTURE.md explains why). A new
// import that points the wrong way fails here, with the rule it breaks.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../helpers/foundation.js';

const SRC = path.join(ROOT, 'src');

/** A layer: a folder of src/, or a top-level file by its name without .ts. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  bin: ['cli', 'errors', 'io', 'plugin-launch'],
  'plugin-launch': ['actions', 'cli', 'commands', 'context', 'errors', 'plugin'],
  cli: ['commands', 'context', 'errors', 'io', 'plugin', 'version'],
  context: ['config', 'io', 'net', 'version'],
  commands: ['actions', 'cf', 'config', 'context', 'errors', 'io', 'services', 'ssh', 'uaa'],
  actions: ['cf', 'config', 'context', 'errors', 'net', 'services', 'ssh', 'uaa', 'web'],
  cf: ['errors', 'net'],
  uaa: ['config', 'errors', 'net'],
  ssh: ['errors', 'io', 'net'],
  services: ['errors'],
  config: ['errors', 'net/shape'],
  net: ['errors'],
  // The web terminal's own HTTP/WebSocket server and page: speaks to the browser only; actions/web-ssh.ts gives it the sessions.
  web: ['errors', 'net/socket-errors'],
  io: ['errors', 'version', 'commands/command-spec'],
  plugin: ['config', 'errors', 'version', 'commands/command-spec'],
  errors: [],
  version: ['../package.json'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** src/actions/ssh.ts → actions; src/cli.ts → cli. */
function layerOf(file: string): string {
  const [first = '', second] = path.relative(SRC, file).split(path.sep);
  return second === undefined ? first.replace(/\.ts$/, '') : first;
}

function relativeImports(text: string): string[] {
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'|import\('(\.[^']+)'\)/g)].map((m) => m[1] ?? m[2] ?? '');
}

describe('the layers of src/', () => {
  it('import only what docs/ARCHITECTURE.md allows', () => {
    const broken: string[] = [];
    const files = sourceFiles(SRC);
    assert.ok(files.length > 40, `found only ${files.length} files under src/`);
    for (const file of files) {
      const from = layerOf(file);
      const allowed = MAY_IMPORT[from];
      assert.ok(allowed, `${path.relative(ROOT, file)} is in a layer the rules do not know: ${from}`);
      for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
        const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, '.ts');
        const to = layerOf(target);
        const module = path.relative(SRC, target).replace(/\.ts$/, '').split(path.sep).join('/');
        if (to === from || allowed.includes(to) || allowed.includes(module)) continue;
        broken.push(`${path.relative(ROOT, file)} imports ${specifier} (${from} may import ${allowed.join(', ') || 'nothing of ours'})`);
      }
    }
    assert.deepEqual(broken, []);
  });

  it('has a rule that catches a wrong-way import', () => {
    // The check above is only worth something if it can fail: cf/ reaching up into actions/ must.
    assert.equal(MAY_IMPORT.cf?.includes('actions'), false);
    assert.deepEqual(relativeImports("import { findApp } from '../actions/lookup.js';\nconst m = await import('./x.js');"), ['../actions/lookup.js', './x.js']);
  });
});
