// `ssh` on a real terminal (tmux): the PTY, TERM, window resizes reaching the remote
// `stty size`, Ctrl-C going to the remote process, the local terminal restored on every
// exit path, and the instance picker.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { BIN, loggedIn } from '../helpers/cli.js';
import { type RunningFoundation, startFoundationProcess } from '../helpers/foundation.js';
import { TmuxPane } from '../helpers/tmux.js';

describe('ssh on a terminal', () => {
  let foundation: RunningFoundation;
  let home: string;
  const panes: TmuxPane[] = [];

  const pane = (name: string) => {
    const p = TmuxPane.start(name, {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      CF_HOME: home,
      CF_SSH_TOOLS_NO_KEYCHAIN: 'true',
      TERM: 'xterm-256color',
      PS1: 'local$ ',
    });
    panes.push(p);
    return p;
  };
  const ssh = (args: string) => `${process.execPath} ${BIN} ssh ${args}`;

  /** Prints the local terminal's line discipline (icanon, echo, isig, each maybe with a -) before "<modes". */
  const MODES = 'stty -a | tr " " "\\n" | grep -E "^-?(icanon|echo|isig)$" | tr "\\n" " "; echo "<modes"';

  /** The local terminal's line discipline, read after cf-ssh-tools has exited. */
  async function localModes(p: TmuxPane): Promise<string> {
    p.type(MODES);
    return (await p.waitFor(/\n([-a-z ]+)<modes/))[1] ?? '';
  }

  /**
   * Runs `command` under a plain sh, which (unlike the pane's interactive bash) does not put back
   * its own terminal modes after a job dies of a signal; resolves with its exit status and the
   * modes it left behind.
   */
  function underSh(p: TmuxPane, command: string): () => Promise<{ exit: string; modes: string }> {
    p.type(`sh -c '${command}; echo "local-exit=$?"; ${MODES}'`);
    return async () => {
      const [, exit = '', modes = ''] = await p.waitFor(/local-exit=(\d+)\s*\n([-a-z ]*)<modes/);
      return { exit, modes: modes.trim() };
    };
  }

  before(async () => {
    foundation = await startFoundationProcess();
    home = await loggedIn(foundation.url);
  });
  after(async () => {
    for (const p of panes) p.stop();
    await foundation.stop();
  });

  it('gives a shell a PTY with TERM and the window size, follows resizes, and restores the terminal on exit', async () => {
    const p = pane('pty');
    p.type(ssh('demo-app -i 0'));
    p.type('echo "remote-term=$TERM tty=$(tty | cut -c1-8)"');
    await p.waitFor(/remote-term=xterm-256color tty=\/dev\/pt/);
    p.type('stty size');
    await p.waitFor(/^30 100\s*$/m);
    p.resize(120, 40);
    p.type('stty size');
    await p.waitFor(/^40 120\s*$/m);
    // "sleeping" shows once the remote shell runs the line: Ctrl-C then reaches a running process.
    p.type('echo sleeping; sleep 100');
    await p.waitFor(/^sleeping\s*$/m);
    p.keys('C-c');
    // ^C flushes what is typed after it: wait for the shell's new prompt first.
    await p.waitFor(/\^C\s*\n\S+[#$]\s*$/);
    p.type('echo "still connected after ctrl-c"');
    await p.waitFor(/^still connected after ctrl-c\s*$/m);
    p.type('exit 5');
    await p.waitFor(/^exit\s*\nlocal\$\s*$/m);
    p.type('echo "local-exit=$?"');
    await p.waitFor(/local-exit=5/);
    assert.equal((await localModes(p)).trim(), 'isig icanon echo');
  });

  /** A PTY shell is interrupted by `interrupt`; afterwards the local shell reports `exitCode` and sane modes. */
  async function interruptedSession(name: string, args: string, interrupt: () => Promise<unknown>, ended: RegExp, exitCode: number): Promise<void> {
    const p = pane(name);
    const finished = underSh(p, ssh(args));
    p.type('echo "in-session"');
    await p.waitFor(/^in-session\s*$/m);
    await interrupt();
    assert.deepEqual(await finished(), { exit: String(exitCode), modes: 'isig icanon echo' });
    assert.match(p.screen(), ended);
  }

  it('restores the terminal when the connection is lost under a PTY session', () =>
    interruptedSession(
      'lost',
      'demo-app -i 0',
      () => foundation.control('POST', '/foundation/ssh/drop'),
      /Connection to the app instance was lost.*\n(FAILED\s*\n)?local-exit=/m,
      255,
    ));

  it('restores the terminal when cf-ssh-tools itself is stopped by SIGTERM', () =>
    interruptedSession(
      'sigterm',
      'demo-app -i 1 --process web',
      // Anchored at node: the sh around it has the same words on its command line.
      async () => execFileSync('pkill', ['-TERM', '-f', `^${process.execPath} ${BIN} ssh demo-app -i 1 --process web`]),
      /local-exit=143/,
      143,
    ));

  it('Ctrl-C during a command stops a shell loop: the process dies of SIGINT after cleaning up, as cf and ssh do', async () => {
    const p = pane('loop');
    // The local shell expands $i: run-1, then run-2 if the loop went on.
    p.type(`for i in 1 2; do ${ssh('demo-app -i 0 -c "echo run-$i; sleep 20"')}; done; echo "loop went on"`);
    await p.waitFor(/^run-1\s*$/m);
    p.keys('C-c');
    await p.waitFor(/\^C\s*\nlocal\$\s*$/);
    p.type('echo "local-exit=$?"');
    await p.waitFor(/local-exit=130/);
    assert.doesNotMatch(p.screen(), /^(run-2|loop went on)\s*$/m);
  });

  it('SIGHUP at the hidden password prompt leaves the terminal as it was', async () => {
    const p = pane('hangup');
    const finished = underSh(p, `${process.execPath} ${BIN} login -a ${foundation.url} -u hangup-user`);
    await p.waitFor(/Password: ?$/m);
    // The prompt hides what is typed: the marker must not show.
    p.type('typed-at-the-prompt', false);
    // Anchored at node: the sh around it has the same words on its command line.
    execFileSync('pkill', ['-HUP', '-f', `^${process.execPath} ${BIN} login -a ${foundation.url} -u hangup-user`]);
    assert.deepEqual(await finished(), { exit: '129', modes: 'isig icanon echo' });
    assert.doesNotMatch(p.screen(), /typed-at-the-prompt/);
  });

  it('-t with a command gets a PTY on a terminal; -T never does', async () => {
    const p = pane('flags');
    p.type(ssh(`demo-app -i 0 -t -c 'test -t 0 && echo "has a tty"'`));
    await p.waitFor(/^has a tty\s*$/m);
    p.type(ssh(`demo-app -i 0 -T -c 'test -t 0 || echo "no tty"'`));
    await p.waitFor(/^no tty\s*$/m);
  });

  it('offers the instance picker for an interactive shell when several instances run and no -i is given; -c takes instance 0 as cf does', async () => {
    const p = pane('picker');
    p.type(ssh(`demo-app -c 'echo "picked=$CF_INSTANCE_INDEX"'`));
    await p.waitFor(/^picked=0\s*$/m);
    assert.doesNotMatch(p.screen(), /runs 2 web instances/);
    p.type(ssh('demo-app'));
    await p.waitFor(/demo-app runs 2 web instances:/);
    const screen = p.screen();
    assert.match(screen, /#\s+state\s+uptime\s+cpu\s+memory/);
    assert.match(screen, /\n\s+1\s+RUNNING\s+1h0m\s+0\.8%\s+80M of 256M/);
    await p.waitFor(/Instance \(enter for 0\):/);
    p.type('7');
    await p.waitFor(/demo-app has no web instance 7\./);
    p.type('1');
    p.type('echo "shell=$CF_INSTANCE_INDEX"');
    await p.waitFor(/^shell=1\s*$/m);
    p.type('exit');
    await p.waitFor(/^exit\s*\nlocal\$\s*$/m);
  });
});
