// `web-ssh`: a terminal in the browser. One lifecycle serves the page on 127.0.0.1 (see
// src/web/page-server.ts for who may use it), opens it in the browser through a 0600 file that
// carries the token (never a command line), and gives each browser tab its own SSH session,
// opened as `ssh` opens one (the same look-ups and checks; the one-time code stays here). The
// run ends on a stop signal, when no tab has been open for a while, or when the token expires;
// its end closes every session, tab and listener and removes the file.
import { randomBytes } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Client, ClientChannel } from 'ssh2';
import type { Context } from '../context.js';
import { describeError, StoppedError } from '../errors.js';
import { openChannel } from '../ssh/session.js';
import { keepaliveMs } from '../ssh/settings.js';
import { readAssets } from '../web/assets.js';
import { startPageServer, type Tab, type TabMessage } from '../web/page-server.js';
import type { CfClients } from './cf-clients.js';
import { openInstanceConnection } from './instance-connection.js';
import { type Lifecycle, lossReason, type Reporter, withLifecycle } from './lifecycle.js';
import { appEnvCommand, ensureSshEnabled, sshEndpoint, startedApp, uptimeText } from './ssh.js';

export interface WebSshRequest {
  appName: string;
  /** 0 for a free one. */
  port: number;
  skipHostValidation: boolean;
  /** --app-env: shells start as the app's own process does. */
  appEnv: boolean;
  /** How long the server waits with no tab open before it stops. */
  idleMs: number;
  /** How long the token is good for: the server stops then. */
  lifetimeMs: number;
  /** Open the browser; else only say where the page is. */
  open: boolean;
}

/** How opening the browser went: opened (through which program), or why not. */
export type BrowserOpening = { opened: string } | { failed: string } | undefined;

export interface WebSshReporter extends Reporter {
  /** The page is served at `url` (the token in its fragment); `opening` undefined when the browser was not to be opened. */
  serving(url: string, opening: BrowserOpening): void;
}

/** Why a run that was not stopped by a signal ended. */
export type WebSshEnd = { why: 'idle'; ms: number } | { why: 'lifetime'; ms: number };

/** An instance as the page's picker shows it. */
interface ListedInstance {
  index: number;
  state: string;
  uptime: string;
  details?: string;
}

/** The app's processes and their instances, from the look-ups `ssh` and its picker use. */
async function listInstances(cf: CfClients, appName: string): Promise<{ app: string; processes: { type: string; instances: ListedInstance[] }[] }> {
  const app = await startedApp(cf, appName);
  const processes = await cf.cc.processes(app.guid);
  // web first, as the default of every command; the rest by name.
  processes.sort((a, b) => Number(b.type === 'web') - Number(a.type === 'web') || a.type.localeCompare(b.type));
  const listed = await Promise.all(
    processes.map(async (process) => ({
      type: process.type,
      instances: (await cf.cc.processStats(process.guid))
        .map((s) => ({ index: s.index, state: s.state, uptime: uptimeText(s), ...(s.details && { details: s.details }) }))
        .sort((a, b) => a.index - b.index),
    })),
  );
  return { app: app.name, processes: listed };
}

/** A tab's SSH session, from the moment it is asked for. */
interface Session {
  stop: AbortController;
  connection?: Client;
  channel?: ClientChannel;
}

function endSession(session: Session | undefined): void {
  if (!session) return;
  session.stop.abort();
  session.channel?.close();
  session.connection?.end();
}

/** How a session ended, in a user's words. */
function endReason(where: string, exit: { code?: number; signal?: string }, lost: string | undefined): string {
  if (exit.code !== undefined) return `Session on ${where} ended: exit status ${exit.code}.`;
  if (exit.signal) return `Session on ${where} ended: the shell was killed by signal ${exit.signal.replace(/^SIG/, '')}.`;
  if (lost) return `Connection to ${where} lost: ${lost}.`;
  return `Session on ${where} ended.`;
}

/** How long a channel's close without an exit status waits for its connection's close (the loss that explains it). */
const LOSS_NOTICE_MS = 1000;

/** Serves one tab: each `connect` replaces its session with a new one; its closing ends the session. */
function serveTab(ctx: Context, cf: CfClients, request: WebSshRequest, life: Lifecycle, tab: Tab): () => void {
  let current: Session | undefined;
  let size = { cols: 80, rows: 24 };

  const start = async (session: Session, processType: string, index: number) => {
    const where = `${processType}/${index}`;
    const signal = AbortSignal.any([life.signal, session.stop.signal]);
    try {
      const wanted = { appName: request.appName, processType, index, skipHostValidation: request.skipHostValidation };
      const { connection } = await openInstanceConnection(ctx, cf, wanted, signal);
      session.connection = connection;
      if (signal.aborted) return void connection.end();
      let failure: Error | undefined;
      let closed = false;
      connection.on('error', (err) => void (failure ??= err));
      connection.once('close', () => (closed = true));
      const command = request.appEnv ? appEnvCommand(undefined) : undefined;
      const channel = await openChannel(connection, command, { term: 'xterm-256color', ...size });
      session.channel = channel;
      if (signal.aborted) {
        channel.close();
        return;
      }
      tab.send({ type: 'connected', app: request.appName, process: processType, index });
      const exit: { code?: number; signal?: string } = {};
      channel.on('exit', (code: number | null, exitSignal?: string) => {
        if (typeof code === 'number') exit.code = code;
        if (exitSignal) exit.signal = exitSignal;
      });
      const forward = (chunk: Buffer) => {
        // A replaced session's last output is dropped: the tab's terminal now shows another instance.
        if (current !== session) return;
        if (!tab.output(chunk, () => channel.resume())) channel.pause();
      };
      channel.on('data', forward);
      channel.stderr.on('data', forward);
      await new Promise<void>((resolve) => channel.once('close', resolve));
      if (signal.aborted) return;
      // No exit status: the connection went, closing its channels first; its own close says why.
      const lostWithIt = exit.code === undefined && !exit.signal;
      if (lostWithIt && !closed) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, LOSS_NOTICE_MS);
          connection.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      const lost = lostWithIt && closed ? lossReason(failure, keepaliveMs(ctx.env)) : undefined;
      tab.send({ type: 'ended', reason: endReason(where, exit, lost) });
    } catch (err) {
      if (!signal.aborted) tab.send({ type: 'ended', reason: `Cannot open a session on ${where}: ${describeError(err).message}` });
    } finally {
      session.connection?.end();
      if (current === session) current = undefined;
    }
  };

  tab.onMessage((message: TabMessage) => {
    switch (message.type) {
      case 'connect': {
        endSession(current);
        size = { cols: message.cols, rows: message.rows };
        const session: Session = { stop: new AbortController() };
        current = session;
        void start(session, message.process, message.index);
        break;
      }
      case 'input':
        // Typing or a paste (the page sends a large one in pieces): the tab waits while the instance catches up.
        if (current?.channel && !current.channel.write(message.data)) {
          tab.pauseInput();
          current.channel.once('drain', () => tab.resumeInput());
        }
        break;
      case 'resize':
        size = { cols: message.cols, rows: message.rows };
        current?.channel?.setWindow(size.rows, size.cols, 0, 0);
        break;
    }
  });
  return () => endSession(current);
}

const OPENER_PAGE = (url: string) => {
  const attribute = url.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  return `<!doctype html>
<html><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url=${attribute}"><title>cf-ssh-tools web-ssh</title></head>
<body><p><a href="${attribute}">Open the terminal</a></p><script>location.replace(${JSON.stringify(url)})</script></body></html>
`;
};

/** The programs that can open a file in the browser: BROWSER's (as Python's webbrowser reads it), then the platform's. */
function openers(ctx: Context, file: string): string[][] {
  const fromEnv = (ctx.env.BROWSER ?? '')
    .split(path.delimiter)
    .map((command) => command.trim().split(/\s+/).filter(Boolean))
    .filter((words) => words.length > 0)
    .map((words) => (words.some((w) => w.includes('%s')) ? words.map((w) => w.replaceAll('%s', () => file)) : [...words, file]));
  // Windows: the shell's own file handler, as Go's pkg/browser does; `cmd /c start` would read & ^ % in the path.
  const platform = process.platform === 'darwin' ? [['open', file]] : process.platform === 'win32' ? [['rundll32', 'url.dll,FileProtocolHandler', file]] : [['xdg-open', file]];
  return [...fromEnv, ...platform];
}

/** How long an opener may take to fail before it counts as having opened the page (some stay with the browser they started). */
const OPENER_GRACE_MS = 3000;

/** Runs `argv`; resolves with why it failed, or undefined once it succeeded or has run a while. */
function tryOpener(ctx: Context, argv: string[]): Promise<string | undefined> {
  const [program = '', ...args] = argv;
  return new Promise((resolve) => {
    const child = ctx.spawn(program, args, { stdio: 'ignore', detached: process.platform !== 'win32' });
    const timer = setTimeout(() => {
      child.unref();
      resolve(undefined);
    }, OPENER_GRACE_MS);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ENOENT' ? `${program}: not found` : `${program}: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code === 0 ? undefined : `${program} ended with ${signal ?? `status ${code}`}`);
    });
  });
}

async function openInBrowser(ctx: Context, file: string): Promise<BrowserOpening> {
  const failures: string[] = [];
  for (const argv of openers(ctx, file)) {
    const failure = await tryOpener(ctx, argv);
    if (failure === undefined) return { opened: argv[0] ?? '' };
    failures.push(failure);
  }
  return { failed: failures.join('; ') };
}

/** Serves the app's web terminal until stopped, idle or expired; what ended it (a stop signal ends it by its error). */
export async function runWebSsh(ctx: Context, cf: CfClients, request: WebSshRequest, reporter: WebSshReporter): Promise<WebSshEnd> {
  return withLifecycle(ctx, reporter, async (life) => {
    // What `ssh` would refuse is refused before anything is served.
    await reporter.spin(`Looking up ${request.appName}...`, async () => {
      const app = await life.until(startedApp(cf, request.appName));
      await life.until(Promise.all([ensureSshEnabled(cf, app, ctx.bin), sshEndpoint(cf)]));
    });
    const token = randomBytes(32).toString('base64url');
    const assets = await life.until(readAssets());

    let end!: (why: WebSshEnd) => void;
    const ended = new Promise<WebSshEnd>((resolve) => (end = resolve));
    let idleTimer: NodeJS.Timeout | undefined;
    let lifetimeTimer: NodeJS.Timeout | undefined;
    /** Set once the run ends (any way): a tab's close then arms no timer. */
    let stopping = false;
    life.defer('the timers', () => {
      stopping = true;
      clearTimeout(idleTimer);
      clearTimeout(lifetimeTimer);
    });
    const idle = () => {
      if (stopping) return;
      idleTimer = setTimeout(() => end({ why: 'idle', ms: request.idleMs }), request.idleMs);
    };

    const tabs = new Map<Tab, () => void>();
    let openerFile: string | undefined;
    const server = await life.until(
      startPageServer({
        port: request.port,
        token,
        assets,
        api: {
          instances: () =>
            listInstances(cf, request.appName).then(
              (listing) => ({ ...listing, appEnv: request.appEnv }),
              (err: unknown) => Promise.reject(new Error(describeError(err).message)),
            ),
        },
        onTab: (tab) => {
          clearTimeout(idleTimer);
          // The browser has read the opener file: the token need not lie on disk any longer.
          if (openerFile) void rm(openerFile, { force: true }).catch(() => undefined);
          tabs.set(tab, serveTab(ctx, cf, request, life, tab));
          tab.onClose(() => {
            tabs.get(tab)?.();
            tabs.delete(tab);
            if (tabs.size === 0) idle();
          });
        },
      }),
    );
    life.defer('the web server', () => server.close());
    life.defer('the browser tabs', () => {
      for (const [tab, endTabSession] of tabs) {
        endTabSession();
        tab.close('web-ssh stopped');
      }
    });
    idle();
    lifetimeTimer = setTimeout(() => end({ why: 'lifetime', ms: request.lifetimeMs }), request.lifetimeMs);

    const url = `http://127.0.0.1:${server.port}/#token=${token}`;
    let opening: BrowserOpening;
    if (request.open) {
      openerFile = path.join(await life.privateFolder(), 'web-ssh.html');
      await writeFile(openerFile, OPENER_PAGE(url), { mode: 0o600 });
      opening = await life.until(openInBrowser(ctx, openerFile));
    }
    reporter.serving(url, opening);

    try {
      return await Promise.race([life.stopped(), ended]);
    } catch (err) {
      if (err instanceof StoppedError) {
        const sessions = tabs.size;
        reporter.notice(`web-ssh stopped (${err.signal === 'SIGINT' ? 'Ctrl-C' : err.signal}); ${sessions} tab${sessions === 1 ? '' : 's'} closed.`);
      }
      throw err;
    }
  });
}
