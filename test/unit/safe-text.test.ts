// What servers and credentials choose (names, CC's error details, X-Cf-Warnings) reaches the
// terminal with every control character shown, not obeyed: an app named "\e[31m..." does not
// colour the output, an error detail with "\e]0;pwned\a" does not set the window title. The
// remote session's bytes are not ours to filter, and JSON output is escaped by JSON itself.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Terminal } from '../../src/io/terminal.js';
import { safeText } from '../../src/io/safe-text.js';
import { type Foundation, startFoundation } from '../foundation/server.js';
import { loggedIn, runCli, tempHome } from '../helpers/run-cli.js';

const RED_APP = '\u001b[31mred-app';
const TITLE = '\u001b]0;pwned\u0007';

/** No C0 (but newline), DEL or C1 character: nothing that starts a terminal's escape or control sequence. */
function assertInert(text: string): void {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    assert.ok(code === 0x0a || (code >= 0x20 && code < 0x7f) || code > 0x9f, `character ${i} of ${JSON.stringify(text)}`);
  }
}

describe('safeText', () => {
  it('shows control characters and bidirectional overrides as visible escapes', () => {
    assert.equal(safeText(RED_APP), '\\x1b[31mred-app');
    assert.equal(safeText(`a${TITLE}b`), 'a\\x1b]0;pwned\\x07b');
    assert.equal(safeText('\u009b2J C1 CSI, \u202eevil'), '\\x9b2J C1 CSI, \\u202eevil');
    assert.equal(safeText('OK\rFAILED\u0008\u007f'), 'OK\\x0dFAILED\\x08\\x7f');
  });

  it('keeps newlines, CRLF as newlines, tabs and every printable character as they are', () => {
    assert.equal(safeText('one\r\ntwo\n\tthree'), 'one\ntwo\n\tthree');
    const printable = 'démo-app 数据库 🚀 C:\\path "quoted" 50%';
    assert.equal(safeText(printable), printable);
  });

  it('applies to the terminal: out, err and prompts', async () => {
    const stream = () => Object.assign(new PassThrough(), { isTTY: false });
    const streams = { stdin: stream(), stdout: stream(), stderr: stream() };
    const term = new Terminal(streams);
    term.out(`App ${RED_APP}`);
    term.err(TITLE);
    streams.stdin.end('answer\n');
    assert.equal(await term.prompt(`Pick ${RED_APP}: `), 'answer');
    assert.equal(String(streams.stdout.read()), 'App \\x1b[31mred-app\n');
    assert.equal(String(streams.stderr.read()), `\\x1b]0;pwned\\x07\nPick \\x1b[31mred-app: `);
  });
});

describe('server text through the commands', () => {
  let foundation: Foundation;
  let developer: string;

  before(async () => {
    foundation = await startFoundation({ ssh: true, sshBackend: 'builtin' });
    const space = foundation.world.spaces.find((s) => s.name === 'demo-space');
    assert.ok(space);
    foundation.world.addApp(space, RED_APP, { sshEnabled: false });
    developer = await loggedIn(foundation.url);
  });
  after(() => foundation.stop());

  it("an app's name from CC is shown escaped, in text; JSON escapes it itself", async () => {
    const r = await runCli(developer, ['ssh-enabled', RED_APP]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        "ssh support is disabled for app '\\x1b[31mred-app'.",
        'ssh is disabled for app',
        "SSH is disabled for app '\\x1b[31mred-app': a space developer can run 'cf-ssh-tools enable-ssh \\x1b[31mred-app'.",
        '',
      ].join('\n'),
    );
    const json = await runCli(developer, ['ssh-enabled', RED_APP, '--json']);
    assert.equal((JSON.parse(json.stdout) as { app: string }).app, RED_APP);
    assertInert(json.stdout);
  });

  it("a remote command's output is the instance's to colour: its bytes pass untouched", async () => {
    const r = await runCli(developer, ['ssh', 'demo-app', '-c', String.raw`printf '\033[31mred\033]0;title\007\r\n'`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '\u001b[31mred\u001b]0;title\u0007\r\n');
  });

  it('X-Cf-Warnings are shown escaped', async () => {
    foundation.settings.warning = `maintenance ${TITLE}tonight`;
    try {
      const r = await runCli(developer, ['ssh-enabled', 'demo-app']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^maintenance \\x1b\]0;pwned\\x07tonight$/m);
      assertInert(r.stderr);
    } finally {
      foundation.settings.warning = undefined;
    }
  });
});

describe("a Cloud Controller's error details", () => {
  let server: http.Server;
  let home: string;

  before(async () => {
    // A Cloud Controller that refuses every request with a detail that would set the window title.
    server = http.createServer((_req, res) => {
      res.writeHead(422, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 10008, title: 'CF-UnprocessableEntity', detail: `The app is ${TITLE}broken\r\nreally` }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const part = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const token = `${part({ alg: 'HS256' })}.${part({ user_name: 'developer', exp: Math.floor(Date.now() / 1000) + 3600 })}.c2ln`;
    home = tempHome();
    mkdirSync(path.join(home, '.cf'));
    writeFileSync(
      path.join(home, '.cf', 'config.json'),
      JSON.stringify({
        ConfigVersion: 4,
        Target: api,
        AuthorizationEndpoint: `${api}/uaa`,
        AccessToken: `bearer ${token}`,
        RefreshToken: 'r',
        OrganizationFields: { GUID: 'org', Name: 'org' },
        SpaceFields: { GUID: 'space', Name: 'space' },
      }),
    );
  });
  after(() => server.close());

  it('are printed as one error with every control character shown', async () => {
    const r = await runCli(home, ['ssh-enabled', 'demo-app']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'The app is \\x1b]0;pwned\\x07broken\nreally\n');
    assert.equal(r.stdout, 'FAILED\n');
  });
});
