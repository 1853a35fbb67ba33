import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { commandTable, MANIFEST_FILE, manifestYaml, README_FILE, readmeWithTable } from '../../scripts/generate.js';
import { COMMAND_SPECS, SPECS } from '../../src/commands/specs.js';
import { commandHelp } from '../../src/io/help.js';

const commandsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/commands');

describe('the command specs', () => {
  it('describes every command, each with a module and cf-legal names inside cf', () => {
    const names = COMMAND_SPECS.map((c) => c.name);
    assert.deepEqual(names.sort(), [
      'allow-space-ssh',
      'connect-to-service',
      'copy',
      'disable-ssh',
      'disallow-space-ssh',
      'enable-ssh',
      'login',
      'logout',
      'space-ssh-allowed',
      'ssh',
      'ssh-audit',
      'ssh-code',
      'ssh-enabled',
      'target',
      'tunnel',
      'web-ssh',
    ]);
    for (const name of names) assert.ok(existsSync(path.join(commandsDir, `${name}.js`)), name);
    const pluginNames = COMMAND_SPECS.flatMap((c) => (c.pluginName ? [c.pluginName] : []));
    for (const core of ['ssh', 'enable-ssh', 'disable-ssh', 'ssh-code', 'ssh-enabled', 'allow-space-ssh', 'login', 'target']) {
      assert.ok(!pluginNames.includes(core), `${core} is a cf core command`);
    }
  });

  it('renders help in the cf layout: every line of `cf help ssh` (v8), in order, plus our own options', () => {
    const ours = commandHelp(SPECS.ssh, 'cf').split('\n');
    const cf = `NAME:
   ssh - SSH to an application container instance

USAGE:
   cf ssh APP_NAME [--process PROCESS] [-i INDEX] [-c COMMAND]...
   [-L [BIND_ADDRESS:]LOCAL_PORT:REMOTE_HOST:REMOTE_PORT]... [--skip-remote-execution]
   [--disable-pseudo-tty | --force-pseudo-tty | --request-pseudo-tty] [--skip-host-validation]

OPTIONS:
   --app-instance-index, -i         App process instance index (Default: 0)
   --command, -c                    Command to run
   --disable-pseudo-tty, -T         Disable pseudo-tty allocation
   --force-pseudo-tty               Force pseudo-tty allocation
   -L                               Local port forward specification
   --process                        App process name (Default: web)
   --request-pseudo-tty, -t         Request pseudo-tty allocation
   --skip-host-validation, -k       Skip host key validation. Not recommended!
   --skip-remote-execution, -N      Do not execute a remote command

ENVIRONMENT:
   all_proxy=                   Specify a proxy server to enable proxying for all requests

SEE ALSO:
   allow-space-ssh, enable-ssh, space-ssh-allowed, ssh-code, ssh-enabled
`.split('\n');
    let at = 0;
    for (const line of cf) {
      const found = ours.indexOf(line, at);
      assert.ok(found >= 0, `cf's help line ${JSON.stringify(line)} is missing or out of order`);
      at = found + 1;
    }
    assert.ok(
      ours.some((l) => l.startsWith('   --app-env ')),
      'our own options are listed too',
    );
    // cf's own help for enable-ssh, its usage line grown by our options and the OPTIONS they make.
    const enableHelp = commandHelp(SPECS['enable-ssh'], 'cf');
    assert.match(
      enableHelp,
      /^NAME:\n {3}enable-ssh - Enable ssh for the application\n\nUSAGE:\n {3}cf enable-ssh APP_NAME \[--for DURATION \[--reason REASON\]\] \[--restart rolling\]\n\nOPTIONS:\n/,
    );
    assert.deepEqual(
      [...enableHelp.matchAll(/^ {3}(--[\w-]+) /gm)].map((m) => m[1]),
      ['--for', '--reason', '--restart'],
    );
    assert.ok(enableHelp.endsWith('\n\nSEE ALSO:\n   allow-space-ssh, space-ssh-allowed, ssh, ssh-enabled\n'));
  });
});

describe('what is made from the specs', () => {
  it('plugin-manifest.yml is current (npm run generate writes it)', () => {
    assert.equal(readFileSync(MANIFEST_FILE, 'utf8'), manifestYaml(), 'plugin-manifest.yml is out of date: run npm run generate');
  });

  it("the README's command table is current (npm run generate writes it)", () => {
    const readme = readFileSync(README_FILE, 'utf8');
    assert.equal(readme, readmeWithTable(readme), "README.md's command table is out of date: run npm run generate");
    assert.ok(readme.includes(commandTable()));
    const rows = [...readme.matchAll(/^\| `cf-ssh-tools ([\w-]+)` \| (?:`cf ([\w-]+)`|\(cf's own `cf [\w-]+`\)) \| (.+) \|$/gm)].map((m) => [m[1], m[2], m[3]]);
    assert.deepEqual(
      rows,
      COMMAND_SPECS.map((c) => [c.name, c.pluginName, c.description]),
    );
  });

  it('the version has one home: package.json, which the manifest and --version follow', () => {
    const pkg = JSON.parse(readFileSync(path.join(path.dirname(MANIFEST_FILE), 'package.json'), 'utf8')) as { version: string };
    assert.match(manifestYaml(), new RegExp(`^version: ${pkg.version.replaceAll('.', '\\.')}$`, 'm'));
  });
});
