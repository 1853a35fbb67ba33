import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { commandHelp } from '../../src/io/help.js';
import { manifest } from '../../src/manifest.js';

const commandsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/commands');

describe('plugin-manifest.yml', () => {
  it('describes every command, each with a module and cf-legal names inside cf', () => {
    const names = manifest().commands.map((c) => c.name);
    assert.deepEqual(names.sort(), [
      'allow-space-ssh', 'connect-to-service', 'disable-ssh', 'disallow-space-ssh', 'enable-ssh', 'login', 'logout',
      'space-ssh-allowed', 'ssh', 'ssh-code', 'ssh-enabled', 'target',
    ]);
    for (const name of names) assert.ok(existsSync(path.join(commandsDir, `${name}.js`)), name);
    const pluginNames = manifest().commands.flatMap((c) => (c.plugin_name ? [c.plugin_name] : []));
    for (const core of ['ssh', 'enable-ssh', 'disable-ssh', 'ssh-code', 'ssh-enabled', 'allow-space-ssh', 'login', 'target']) {
      assert.ok(!pluginNames.includes(core), `${core} is a cf core command`);
    }
  });

  it('renders help in the cf layout', () => {
    const spec = manifest().commands.find((c) => c.name === 'ssh')!;
    const help = commandHelp(spec, 'cf-ssh-tools');
    assert.match(help, /^NAME:\n   ssh - SSH to an application container instance\n\nUSAGE:\n   cf-ssh-tools ssh APP_NAME /);
    assert.match(help, /\nOPTIONS:\n   --app-instance-index, -i\s+App process instance index \(Default: 0\)\n/);
    assert.match(help, /\nSEE ALSO:\n   allow-space-ssh, enable-ssh/);
  });
});
