// What a run loads before it answers: help and the version load no package and nothing a command
// needs; a usage error loads commander but not axios; a command that makes requests starts
// loading axios first, without loading Node's fetch (undici). Seen in node's own module logs
// (NODE_DEBUG=esm,module) of the built CLI, a process per run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { COMMAND_SPECS } from '../../src/commands/specs.js';
import { programHelp, STANDALONE_NAME } from '../../src/io/help.js';
import { VERSION } from '../../src/version.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { ROOT } from '../helpers/foundation.js';
import { cli, type CliResult, tempHome } from '../helpers/cli.js';
import { loggedIn } from '../helpers/run-cli.js';

/** The packages and our own modules (build/src/…) a run asked node's module loaders (ES and CommonJS) for, in order, each once. */
function loaded(result: CliResult): { packages: string[]; own: string[] } {
  const urls = [...result.stderr.matchAll(/^ESM \d+: Storing (file:\S+) .*in ModuleLoadMap$|^MODULE \d+: load "(\/[^"]+)" for module/gm)].map((m) => m[1] ?? m[2] ?? '');
  const packages = urls.map((url) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1]).filter((name) => name !== undefined);
  const own = urls.map((url) => /\/build\/src\/(.+)\.js$/.exec(url)?.[1]).filter((name) => name !== undefined);
  return { packages: [...new Set(packages)], own };
}

/** What the CLI itself wrote to stderr, without node's module log (its records' objects end in a lone brace). */
function messages(result: CliResult): string[] {
  return result.stderr.split('\n').filter((line) => /^\S/.test(line) && !/^(ESM|MODULE) \d+: /.test(line) && line !== '}');
}

describe('what a run loads', () => {
  let foundation: Foundation;
  const homes: string[] = [];
  const home = () => {
    const made = tempHome();
    homes.push(made);
    return made;
  };
  const run = (dir: string, args: string[]) => cli(dir, args, { env: { NODE_DEBUG: 'esm,module' } });

  before(async () => {
    foundation = await startFoundation({ ssh: false });
  });
  after(async () => {
    await foundation.stop();
    for (const dir of homes) rmSync(dir, { recursive: true, force: true });
  });

  for (const args of [[], ['--help'], ['-h'], ['help'], ['--version'], ['-v']]) {
    it(`\`${[STANDALONE_NAME, ...args].join(' ')}\` answers with no package and no command loaded`, async () => {
      const result = await run(home(), args);
      const expected = args[0]?.startsWith('-v') || args[0] === '--version' ? `${VERSION}\n` : programHelp(COMMAND_SPECS, STANDALONE_NAME);
      assert.equal(result.stdout, expected);
      assert.deepEqual(messages(result), []);
      assert.equal(result.code, 0);
      const { packages, own } = loaded(result);
      assert.deepEqual(packages, []);
      assert.ok(own.length > 0, 'the module log was read');
      assert.deepEqual(
        own.filter((name) => !/^(bin|cli|errors|version|io\/(help|stops)|commands\/specs|plugin\/names)$/.test(name)),
        [],
        'only the entry point, the help and the specs',
      );
    });
  }

  it('a usage error loads commander, and neither axios nor the command', async () => {
    const result = await run(home(), ['ssh', 'demo-app', '--no-such-flag']);
    assert.deepEqual(messages(result), ["Incorrect Usage: unknown flag `no-such-flag'"]);
    assert.match(result.stdout, /^NAME:\n {3}ssh - /);
    assert.equal(result.code, 1);
    const { packages, own } = loaded(result);
    assert.deepEqual(packages, ['commander']);
    assert.ok(!own.includes('commands/ssh'), `the ssh command's module stays unloaded: ${own.join(' ')}`);
  });

  it('a command that makes requests starts loading axios before its own module, which reads the config', async () => {
    const dir = await loggedIn(foundation.url);
    homes.push(dir);
    const result = await run(dir, ['ssh-enabled', 'demo-app']);
    assert.deepEqual(messages(result), []);
    assert.equal(result.stdout, "ssh support is enabled for app 'demo-app'.\n");
    assert.equal(result.code, 0);
    const axiosAt = result.stderr.search(/(Storing \S+|load "\S+)\/node_modules\/axios\//);
    const commandAt = result.stderr.search(/Storing \S+\/build\/src\/commands\/ssh-enabled\.js /);
    assert.ok(axiosAt >= 0 && commandAt >= 0, `axios and the command loaded: ${loaded(result).packages.join(' ')}`);
    assert.ok(axiosAt < commandAt, 'axios asked for first');
  });

  it("loading axios does not load Node's fetch (undici), and leaves fetch and FormData as they were", () => {
    const script = [
      `const { loadAxios } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'build/src/net/http.js')).href)});`,
      'await loadAxios();',
      "const undici = process.moduleLoadList.some((m) => m.includes('undici'));",
      'console.log(JSON.stringify({ undici, fetch: typeof fetch, FormData: typeof FormData, Headers: typeof Headers }));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { undici: false, fetch: 'function', FormData: 'function', Headers: 'function' });
  });
});
