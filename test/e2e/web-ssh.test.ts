// `web-ssh` end to end, in a real browser: Debian's Chromium driven by playwright-core against
// the built CLI and the test foundation. The page's picker, a shell on instance 1, the window's
// size reaching `stty size`, copy and paste, the end of a session and Reconnect, the tab's close
// ending its SSH session on the foundation; the 403s (token, Host, Origin); and the ways the
// server stops (idle, Ctrl-C) leaving nothing behind. CFST_SCREENSHOT=docs/web-ssh.png keeps
// the screenshot the first test takes (else it goes to a temp folder).
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Terminal } from '@xterm/xterm';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { BIN, loggedIn } from '../helpers/cli.js';
import { ROOT, type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';
import { listening } from '../helpers/net.js';

declare global {
  interface Window {
    /** What the page exposes: its terminal. */
    cfst?: { term: Terminal };
  }
}

const CHROMIUM = '/usr/bin/chromium';
const hasPlaywright = (() => {
  try {
    createRequire(path.join(ROOT, 'package.json')).resolve('playwright-core');
    return true;
  } catch {
    return false;
  }
})();
const why = !existsSync(CHROMIUM) ? `${CHROMIUM} is not installed (Debian: apt-get install chromium)` : !hasPlaywright ? 'playwright-core is not installed (npm install)' : false;
if (why) console.log(`# web-ssh browser tests skipped: ${why}`);

/** What Chromium needs on a machine with no network beyond loopback (each of these reaches out otherwise). */
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

interface RunningWebSsh {
  child: ChildProcessWithoutNullStreams;
  /** What the run printed to stderr so far. */
  stderr(): string;
  exited: Promise<number | NodeJS.Signals | null>;
}

/** Polls `check` until it holds (a process gone, a port closed): for what announces itself to no one. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

/** Whether a process whose command line holds `marker` runs on this machine (the foundation's instances run here). */
const running = (marker: string) => {
  try {
    return execFileSync('pgrep', ['-f', marker]).toString().trim() !== '';
  } catch {
    return false;
  }
};

/** A plain HTTP request's status. */
function status(port: number, urlPath: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
  });
}

/** A WebSocket upgrade's answer: 101 when it was let through. */
function upgrade(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/tab',
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    req.once('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.once('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

describe('web-ssh: a terminal in the browser', { skip: why, timeout: 300_000 }, () => {
  let foundation: RunningFoundation;
  let home: string;
  let browser: Browser;
  let work: string;
  const runs: RunningWebSsh[] = [];

  before(async () => {
    const { chromium } = await import('playwright-core');
    [foundation, browser] = await Promise.all([startFoundationProcess(), chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })]);
    home = await loggedIn(foundation.url);
    work = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-web-test-'));
  });
  after(async () => {
    for (const run of runs) run.child.kill('SIGKILL');
    await browser?.close();
    await foundation?.stop();
  });

  function start(args: string[], env: Record<string, string> = {}): RunningWebSsh {
    const child = spawn(process.execPath, [BIN, 'web-ssh', 'demo-app', ...args], {
      env: { PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true', TMPDIR: work, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exited = new Promise<number | NodeJS.Signals | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
    const run = { child, stderr: () => stderr, exited };
    runs.push(run);
    return run;
  }

  /** A run with --no-open, and the address it printed. */
  async function served(args: string[] = []): Promise<{ run: RunningWebSsh; url: string; port: number; token: string }> {
    const run = start(['--no-open', ...args]);
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      run.child.stdout.on('data', (d) => {
        stdout += d;
        const line = /^(http:\/\/\S+)\n/.exec(stdout);
        if (line?.[1]) resolve(line[1]);
      });
      void run.exited.then((code) => reject(new Error(`web-ssh exited (${code}) before serving: ${run.stderr()}`)));
    });
    const parts = /^http:\/\/127\.0\.0\.1:(\d+)\/#token=([A-Za-z0-9_-]{43})$/.exec(url);
    assert.ok(parts, `the address is the page with a 32-byte token in its fragment: ${url}`);
    return { run, url, port: Number(parts[1]), token: parts[2] ?? '' };
  }

  /** The terminal's whole buffer, as text. */
  const screen = (page: Page) =>
    page.evaluate(() => {
      const buffer = window.cfst?.term.buffer;
      if (!buffer) return '';
      const lines: string[] = [];
      for (let i = 0; i < buffer.active.length; i++) lines.push(buffer.active.getLine(i)?.translateToString(true) ?? '');
      return lines.join('\n').trimEnd();
    });

  /** Waits until the terminal shows `pattern`; its match. */
  async function shows(page: Page, pattern: RegExp): Promise<RegExpExecArray> {
    try {
      await page.waitForFunction(
        ([source, flags]) => {
          const buffer = window.cfst?.term.buffer;
          if (!buffer) return false;
          const lines: string[] = [];
          for (let i = 0; i < buffer.active.length; i++) lines.push(buffer.active.getLine(i)?.translateToString(true) ?? '');
          return new RegExp(source, flags).test(lines.join('\n').trimEnd());
        },
        [pattern.source, pattern.flags] as const,
        { timeout: 20_000 },
      );
    } catch (err) {
      throw new Error(`the terminal never showed ${pattern}; it shows:\n${await screen(page)}`, { cause: err });
    }
    return pattern.exec(await screen(page)) as RegExpExecArray;
  }

  /** Runs `command` in the page's shell and returns what it printed between two markers. */
  async function shell(page: Page, command: string): Promise<string> {
    const mark = `m${Math.random().toString(36).slice(2, 8)}`;
    await page.keyboard.type(`echo ${mark}-begin; ${command}; echo ${mark}-end\n`);
    const [, output = ''] = await shows(page, new RegExp(`^${mark}-begin\\n([^]*?)\\n${mark}-end$`, 'm'));
    return output;
  }

  /** Picks `instance` (web/1) in the page and waits for its shell's prompt. */
  async function pick(page: Page, instance: string): Promise<void> {
    await page.getByRole('button', { name: instance, exact: true }).click();
    await page.waitForFunction((where) => document.getElementById('where')?.textContent === `connected to ${where}`, instance, { timeout: 20_000 });
    await shows(page, /[#$] ?$/);
  }

  it('picks instance 1, runs a command there, follows the window’s size, copies and pastes', async () => {
    const { run, url } = await served();
    const context = await browser.newContext({ viewport: { width: 1000, height: 600 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const page = await context.newPage();
    try {
      await page.goto(url);
      // The token left the address bar for sessionStorage.
      await page.waitForFunction(() => !location.href.includes('token'));
      await page.locator('#instances tr').first().waitFor();
      const listed = await page.locator('#instances tr').allInnerTexts();
      assert.deepEqual(
        listed.map((row) => row.split(/\s+/).slice(0, 2).join(' ')),
        ['web/0 RUNNING', 'web/1 RUNNING', 'worker/0 RUNNING'],
      );
      await pick(page, 'web/1');
      assert.equal(await page.title(), 'demo-app — web/1');
      assert.equal(await shell(page, 'echo $CF_INSTANCE_INDEX'), '1');
      assert.equal(await shell(page, 'echo $TERM'), 'xterm-256color');

      const size = async () => page.evaluate(() => `${window.cfst?.term.rows} ${window.cfst?.term.cols}`);
      const before = await size();
      assert.equal(await shell(page, 'stty size'), before);
      await page.setViewportSize({ width: 1300, height: 800 });
      await page.waitForFunction((was) => {
        return `${window.cfst?.term.rows} ${window.cfst?.term.cols}` !== was;
      }, before);
      const after = await size();
      assert.notEqual(after, before);
      assert.equal(await shell(page, 'stty size'), after, 'the remote PTY has the new size');

      // Copy: the selection to the clipboard with Ctrl+Shift+C; paste: the clipboard into the shell with Ctrl+Shift+V.
      await page.evaluate(() => window.cfst?.term.selectAll());
      await page.keyboard.press('Control+Shift+C');
      assert.match(await page.evaluate(() => navigator.clipboard.readText()), /-begin/);
      await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((6*7))'));
      await page.keyboard.press('Control+Shift+V');
      await page.keyboard.press('Enter');
      await shows(page, /^pasted-42$/m);

      await page.setViewportSize({ width: 1000, height: 600 });
      await page.waitForFunction((was) => `${window.cfst?.term.rows} ${window.cfst?.term.cols}` === was, before);
      // What the README's screenshot shows.
      await page.keyboard.type('clear; echo "instance $CF_INSTANCE_INDEX of demo-app, TERM=$TERM, $(stty size) (rows, columns)"; ls -la ~/app\n');
      await shows(page, /\.profile\.d\n\S*[#$] ?$/);
      await page.screenshot({ path: process.env.CFST_SCREENSHOT ?? path.join(work, 'web-ssh.png') });
    } finally {
      await context.close();
      run.child.kill('SIGINT');
    }
    assert.equal(await run.exited, 'SIGINT');
  });

  it('a paste larger than a message (1.5 MB) reaches the instance whole, in pieces', async () => {
    const { run, url } = await served();
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await pick(page, 'web/0');
      // Read raw, without echo: what arrives is counted on the instance. The paste waits for the
      // terminal to be raw (a line longer than 4 KiB would be cut) and out of bash's bracketed-paste mode.
      await page.keyboard.type(
        'stty -icanon -echo min 1; echo raw-now; head -c 1500000 > ~/pasted; stty icanon echo; echo "pasted $(wc -c < ~/pasted) $(tr -d x < ~/pasted | wc -c)"\n',
      );
      await shows(page, /^raw-now$/m);
      await page.waitForFunction(() => window.cfst?.term.modes.bracketedPasteMode === false);
      await page.evaluate(() => window.cfst?.term.paste('x'.repeat(1_500_000)));
      await shows(page, /^pasted 1500000 0$/m);
      assert.equal(await shell(page, 'echo still-connected'), 'still-connected');
    } finally {
      await page.close();
      run.child.kill('SIGINT');
    }
    assert.equal(await run.exited, 'SIGINT');
  });

  it('another instance chosen mid-flood: none of the old session’s output lands in the new terminal', async () => {
    const { run, url } = await served();
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await pick(page, 'web/0');
      await page.keyboard.type('yes flood-from-web0\n');
      await shows(page, /^flood-from-web0$/m);
      await pick(page, 'web/1');
      assert.equal(await shell(page, 'echo $CF_INSTANCE_INDEX'), '1');
      assert.doesNotMatch(await screen(page), /flood-from-web0/);
    } finally {
      await page.close();
      run.child.kill('SIGINT');
    }
    assert.equal(await run.exited, 'SIGINT');
  });

  it('refuses with 403 what lacks the token, comes by another Host name, or upgrades from another origin', async () => {
    const { run, port, token } = await served();
    const page = await browser.newPage();
    try {
      const bearer = { Authorization: `Bearer ${token}` };
      const origin = `http://127.0.0.1:${port}`;
      const protocols = { 'Sec-WebSocket-Protocol': `cf-ssh-tools, bearer.${token}` };
      // The entry page and its boot script hold nothing: they are all that needs no token.
      assert.equal(await status(port, '/'), 200);
      assert.equal(await status(port, '/boot.js'), 200);
      assert.equal(await status(port, '/assets/xterm.js', bearer), 200);
      assert.equal(await status(port, '/api/instances', bearer), 200);
      assert.equal(await status(port, '/assets/xterm.js'), 403, 'no token');
      assert.equal(await status(port, '/assets/xterm.js', { Authorization: `Bearer ${token.slice(1)}x` }), 403, 'a wrong token');
      assert.equal(await status(port, '/api/instances', { Authorization: 'Bearer ' }), 403, 'an empty token');
      assert.equal(await status(port, '/assets/xterm.js?token=' + token), 403, 'the token in the query does not count');
      assert.equal(await status(port, '/', { Host: `rebound.example:${port}` }), 403, 'another Host name (DNS rebinding)');
      assert.equal(await status(port, '/api/instances', { ...bearer, Host: `127.0.0.1:${port + 1}` }), 403, 'another Host port');

      assert.equal(await upgrade(port, { Origin: origin, ...protocols }), 101, 'the page’s own upgrade');
      assert.equal(await upgrade(port, { Origin: 'http://evil.example', ...protocols }), 403, 'a foreign Origin');
      assert.equal(await upgrade(port, { Origin: `http://127.0.0.1:${port + 1}`, ...protocols }), 403, 'another port’s Origin');
      assert.equal(await upgrade(port, protocols), 403, 'no Origin');
      assert.equal(await upgrade(port, { Origin: origin, 'Sec-WebSocket-Protocol': `cf-ssh-tools, bearer.${token}x` }), 403, 'a wrong token');
      assert.equal(await upgrade(port, { Origin: origin, 'Sec-WebSocket-Protocol': 'cf-ssh-tools' }), 403, 'no token');

      // In the browser: a wrong token says so, and loads nothing.
      await page.goto(`http://127.0.0.1:${port}/#token=${'A'.repeat(43)}`);
      await page.getByText('token is not (or no longer) valid').waitFor();
      assert.equal(await page.locator('#page').isHidden(), true);
      // A foreign page's WebSocket to the server fails: its Origin is not the server's.
      await page.goto('about:blank');
      const refused = await page.evaluate(
        ([p, t]) =>
          new Promise<string>((resolve) => {
            const ws = new WebSocket(`ws://127.0.0.1:${p}/tab`, ['cf-ssh-tools', `bearer.${t}`]);
            ws.onopen = () => resolve('open');
            ws.onerror = () => resolve('refused');
          }),
        [port, token] as const,
      );
      assert.equal(refused, 'refused');
    } finally {
      await page.close();
      run.child.kill('SIGINT');
    }
    await run.exited;
  });

  it('shows the end of a session, reconnects, and closing the tab ends the session on the foundation', async () => {
    const { run, url } = await served();
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await pick(page, 'web/0');
      await page.keyboard.type('exit 3\n');
      await page.locator('#ended').waitFor({ state: 'visible' });
      assert.equal(await page.locator('#ended-reason').innerText(), 'Session on web/0 ended: exit status 3.');

      await page.getByRole('button', { name: 'Reconnect' }).click();
      await page.waitForFunction(() => document.getElementById('where')?.textContent === 'connected to web/0');
      assert.equal(await page.locator('#ended').isHidden(), true);
      await shows(page, /[#$] ?$/);
      assert.equal(await shell(page, 'echo again-$CF_INSTANCE_INDEX'), 'again-0');

      // A reload keeps the token (sessionStorage) and the server.
      await page.reload();
      await pick(page, 'web/0');
      const marker = `cfst-web-tab-${process.pid}-${Date.now()}`;
      await page.keyboard.type(`exec -a ${marker} sleep 600\n`);
      await until('the marked process on the instance', () => running(marker));
      await page.close();
      await until('the SSH session ended with its tab', () => !running(marker));
    } finally {
      if (!page.isClosed()) await page.close();
      run.child.kill('SIGINT');
    }
    await run.exited;
  });

  it('--app-env: shells start as the app does; a dropped connection and a refused session each show in their own tab', async () => {
    const { run, url, port, token } = await served(['--app-env']);
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await pick(page, 'web/0');
      assert.equal(await page.locator('#app-env').isVisible(), true);
      assert.equal(await shell(page, 'echo "[$APP_PROFILE_LOADED][$BUILDPACK_PROFILE_LOADED][$APP_DOT_PROFILE][${PWD##*/}]"'), '[yes][yes][yes][app]');

      await foundation.control('POST', '/foundation/ssh/drop');
      await page.locator('#ended').waitFor({ state: 'visible' });
      assert.match(await page.locator('#ended-reason').innerText(), /^Connection to web\/0 lost: (reset|closed by the other end)\.$/);
      await page.getByRole('button', { name: 'Reconnect' }).click();
      await page.waitForFunction(() => document.getElementById('where')?.textContent === 'connected to web/0');
      await shows(page, /[#$] ?$/);

      // Another tab asks for an instance that does not exist: told so, and only it.
      const other = new WebSocket(`ws://127.0.0.1:${port}/tab`, ['cf-ssh-tools', `bearer.${token}`], { origin: `http://127.0.0.1:${port}` });
      await new Promise((resolve, reject) => other.once('open', resolve).once('error', reject));
      const told = new Promise<string>((resolve) => other.once('message', (data: Buffer) => resolve(data.toString())));
      other.send(JSON.stringify({ type: 'connect', process: 'web', index: 7, cols: 80, rows: 24 }));
      assert.deepEqual(JSON.parse(await told), {
        type: 'ended',
        reason: 'Cannot open a session on web/7: Instance 7 of process web not found: demo-app has 2 web instances (indexes 0 to 1 are valid).',
      });
      other.close();
      assert.equal(await shell(page, 'echo still-here'), 'still-here');
      assert.equal(await page.locator('#ended').isHidden(), true);
    } finally {
      await page.close();
      run.child.kill('SIGINT');
    }
    await run.exited;
  });

  it('stops when the token’s --lifetime ends, open tabs or not', async () => {
    const { run, url, port } = await served(['--lifetime', '6s']);
    const page = await browser.newPage();
    try {
      await page.goto(url);
      await pick(page, 'web/0');
      assert.equal(await run.exited, 0, run.stderr());
      assert.match(run.stderr(), /^web-ssh stopped: the page's token expired after 6 s\.$/m);
      await page.locator('#ended').waitFor({ state: 'visible' });
      assert.equal(await listening(port), false);
    } finally {
      await page.close();
    }
  });

  it('stops by itself once no tab has been open for --idle', async () => {
    const { run, url, port } = await served(['--idle', '3s']);
    const page = await browser.newPage();
    await page.goto(url);
    await pick(page, 'worker/0');
    await page.close();
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(run.stderr(), /^web-ssh stopped: no tab was open for 3 s\.$/m);
    assert.equal(await listening(port), false);
  });

  it('opens the browser through a 0600 file, never with the token in argv; Ctrl-C leaves nothing behind', async () => {
    // A BROWSER that records what it was given, as a browser would read it.
    const recorder = path.join(work, 'browser.sh');
    const seen = mkdtempSync(path.join(work, 'seen-'));
    writeFileSync(recorder, `#!/bin/sh\nprintf '%s\\n' "$@" > "${seen}/argv"\nstat -c %a "$1" > "${seen}/mode"\ncp "$1" "${seen}/page.html"\n`);
    chmodSync(recorder, 0o755);
    const run = start([], { BROWSER: recorder });
    await until('the browser opened', () => /Press Ctrl-C to stop\.\n/.test(run.stderr()));
    assert.match(
      run.stderr(),
      /^Opened demo-app's terminal \(http:\/\/127\.0\.0\.1:\d+\/\) in the browser with \S+browser\.sh; if no page shows, open the address above\. Press Ctrl-C to stop\.$/m,
    );
    const [opener = ''] = readFileSync(path.join(seen, 'argv'), 'utf8').trim().split('\n');
    assert.equal(readFileSync(path.join(seen, 'mode'), 'utf8').trim(), '600');
    const url = /location\.replace\("([^"]+)"\)/.exec(readFileSync(path.join(seen, 'page.html'), 'utf8'))?.[1] ?? '';
    const token = /#token=(\S+)$/.exec(url)?.[1] ?? '';
    assert.equal(token.length, 43);
    assert.ok(!readFileSync(path.join(seen, 'argv'), 'utf8').includes(token), 'the token is not in the opener’s argv');
    const port = Number(new URL(url).port);

    const page = await browser.newPage();
    await page.goto(`file://${opener}`);
    await page.waitForURL(`http://127.0.0.1:${port}/`);
    await pick(page, 'web/1');
    assert.equal(existsSync(opener), false, 'the opener file is gone once the page has connected');
    const marker = `cfst-web-sigint-${process.pid}-${Date.now()}`;
    await page.keyboard.type(`exec -a ${marker} sleep 600\n`);
    await until('the marked process on the instance', () => running(marker));

    run.child.kill('SIGINT');
    assert.equal(await run.exited, 'SIGINT', run.stderr());
    assert.match(run.stderr(), /^web-ssh stopped \(Ctrl-C\); 1 tab closed\.$/m);
    assert.equal(await listening(port), false, 'nothing listens on the port');
    assert.equal(existsSync(path.dirname(opener)), false, 'the run’s private folder is gone');
    await until('the SSH session ended', () => !running(marker));
    await page.locator('#ended').waitFor({ state: 'visible' });
    assert.match(await page.locator('#ended-reason').innerText(), /web-ssh.*stopped/);
    await page.close();
    assert.ok(statSync(work).isDirectory());
  });
});
