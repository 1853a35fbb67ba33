// What the user typed or set that cannot work, each answered with one line naming it: a flag
// without its value, an instance index out of range. The CLI in-process.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli, tempHome } from '../helpers/run-cli.js';

describe('inputs that cannot work', () => {
  it('a value flag given last without its value is named as typed, short, long or in a group', async () => {
    const cases: [string[], string][] = [
      [['ssh', 'demo-app', '-c'], '-c'],
      [['ssh', 'demo-app', '--command'], '--command'],
      [['ssh', 'demo-app', '-i'], '-i'],
      [['ssh', 'demo-app', '--app-instance-index'], '--app-instance-index'],
      [['ssh', 'demo-app', '-Tc'], '-c'],
      [['ssh', 'demo-app', '-L'], '-L'],
      [['ssh', 'demo-app', '--process'], '--process'],
      [['ssh-code', 'demo-app', '--openssh', '-i'], '-i'],
      [['connect-to-service', 'demo-app', 'db', '--local-port'], '--local-port'],
      [['login', '-u', 'me', '-a'], '-a'],
      [['target', '-s'], '-s'],
    ];
    for (const [args, flag] of cases) {
      const r = await runCli(tempHome(), args);
      const what = args.join(' ');
      assert.equal(r.code, 1, what);
      assert.equal(r.stderr, `Incorrect Usage: expected argument for flag \`${flag}'\n\n`, what);
      assert.match(r.stdout, new RegExp(`^NAME:\\n   ${args[0]} - `), what);
    }
  });

  it('an instance index beyond int32, where Diego keeps it, is a usage error naming the flag and the range', async () => {
    const outOfRange = "invalid argument for flag '--app-instance-index, -i': '%s' is out of range (0 to 2147483647)";
    const cases: [string[], string][] = [
      [['ssh', 'demo-app', '-i', '99999999999'], '99999999999'],
      [['ssh', 'demo-app', '--app-instance-index', '2147483648'], '2147483648'],
      [['ssh-code', 'demo-app', '--openssh', '-i', '123456789012345678901234567890'], '123456789012345678901234567890'],
      [['connect-to-service', 'demo-app', 'db', '-i', '4294967296'], '4294967296'],
    ];
    for (const [args, value] of cases) {
      const r = await runCli(tempHome(), args);
      const what = args.join(' ');
      assert.equal(r.code, 1, what);
      assert.equal(r.stderr, `Incorrect Usage: ${outOfRange.replace('%s', value)}\n`, what);
      assert.match(r.stdout, new RegExp(`^FAILED\\n\\nNAME:\\n   ${args[0]} - `), what);
    }
  });
});
