// `npm run demo`: starts the test Cloud Foundry, logs in to it in a throwaway CF_HOME and
// runs cf-ssh-tools' commands against it, showing their real output.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFoundation } from '../test/foundation/server.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/bin.js');

interface Step {
  args: string[];
  /** Typed at the prompt (a password), never put on the command line. */
  input?: string;
  expectCode?: number;
  note?: string;
}

function run(home: string, step: Step): Promise<number | null> {
  const shown = step.args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
  process.stdout.write(`\n\x1b[1m$ cf-ssh-tools ${shown}\x1b[0m${step.note ? `   # ${step.note}` : ''}\n`);
  const child = spawn(process.execPath, [BIN, ...step.args], {
    env: { ...process.env, CF_HOME: home, CF_TRACE: '' },
    // Relative local paths (copy's) are in the throwaway home.
    cwd: home,
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  child.stdin.end(step.input ?? '');
  return new Promise((resolve) => child.once('close', resolve));
}

async function main(): Promise<number> {
  const foundation = await startFoundation({ databases: ['postgres'] });
  const home = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-demo-'));
  writeFileSync(path.join(home, 'dump.sql'), 'select 1;\n'.repeat(100_000));
  console.log(`Test Cloud Foundry running at ${foundation.url} (users developer/developer-pass, manager/manager-pass)`);
  const steps: Step[] = [
    { args: ['login', '-a', foundation.url, '-u', 'developer', '-o', 'demo-org', '-s', 'demo-space'], input: 'developer-pass\n', note: 'password typed at the prompt' },
    { args: ['ssh-enabled', 'demo-app'] },
    { args: ['ssh-enabled', 'no-ssh-app'] },
    { args: ['enable-ssh', 'no-ssh-app'] },
    { args: ['disable-ssh', 'no-ssh-app'] },
    { args: ['disable-ssh', 'no-ssh-app'], note: 'safe to run twice' },
    { args: ['space-ssh-allowed', 'locked-space'] },
    { args: ['target', '-s', 'locked-space'] },
    { args: ['ssh-enabled', 'locked-app', '--json'] },
    { args: ['allow-space-ssh', 'locked-space'], expectCode: 1, note: 'only space and org managers may' },
    { args: ['target', '-s', 'demo-space'] },
    { args: ['ssh', 'demo-app', '-c', 'echo "hello from instance $CF_INSTANCE_INDEX"; exit 3'], expectCode: 3, note: 'the remote exit status is ours' },
    { args: ['ssh', 'demo-app', '-i', '1', '--app-env', '-c', 'echo "$PWD: APP_PROFILE_LOADED=$APP_PROFILE_LOADED"'], note: 'in the app environment' },
    { args: ['ssh', 'demo-app'], input: 'echo "piped into a shell: $(uname -s)"\nexit\n', note: 'commands piped into stdin' },
    { args: ['ssh', 'no-ssh-app'], expectCode: 1, note: 'says which level blocks SSH' },
    { args: ['copy', './dump.sql', 'demo-app:tmp/'], note: 'upload over SFTP' },
    { args: ['copy', './dump.sql', 'demo-app:tmp/'], expectCode: 1, note: 'no overwrite without -f' },
    { args: ['copy', '--verify', 'demo-app:tmp/dump.sql', './back.sql'], note: 'download, SHA-256 compared on both sides' },
    {
      args: ['ssh', 'demo-app', '--all-instances', '-c', 'echo "hello from $CF_INSTANCE_INDEX"; echo "a warning" >&2; [ $CF_INSTANCE_INDEX = 0 ] || exit 2'],
      expectCode: 2,
      note: 'every instance at once',
    },
    { args: ['ssh', 'demo-app', '--instances', '0-1', '--json', '-c', 'echo $CF_INSTANCE_INDEX'], note: 'per instance: status, output, duration' },
    { args: ['ssh', 'demo-app', '--all-instances', '--group', '-c', 'echo one; sleep 0.1; echo two'], note: 'a block per instance' },
    {
      args: ['connect-to-service', 'db-app', 'demo-pg', '--', '-c', 'select current_user, current_database(), inet_server_port()'],
      note: 'psql with the credentials of the binding',
    },
    { args: ['connect-to-service', 'db-app', 'demo-pg', '--credentials', 'key', '--', '-tAc', 'select now()'], note: 'a service key for this run only' },
    { args: ['ssh-code'], note: 'one-time password for ssh/scp/sftp' },
    { args: ['ssh-code', '--openssh', 'demo-app'], note: 'ready command lines for plain OpenSSH' },
    { args: ['logout'] },
  ];
  let failures = 0;
  try {
    for (const step of steps) {
      const code = await run(home, step);
      if (code !== (step.expectCode ?? 0)) {
        failures += 1;
        console.error(`!! expected exit code ${step.expectCode ?? 0}, got ${code}`);
      }
    }
  } finally {
    await foundation.stop();
    rmSync(home, { recursive: true, force: true });
  }
  console.log(failures === 0 ? '\nDemo finished: every command behaved as expected.' : `\nDemo finished with ${failures} unexpected result(s).`);
  return failures === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
