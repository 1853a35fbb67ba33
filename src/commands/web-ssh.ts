// `web-ssh APP [--port PORT] [--no-open] [--idle D] [--lifetime D] [--app-env]`: the options
// checked here, the page served and its sessions held by actions/web-ssh.ts.
import { loggedInClients } from '../actions/cf-clients.js';
import { runWebSsh, type WebSshEnd } from '../actions/web-ssh.js';
import { UsageError } from '../errors.js';
import { checkSshSettings } from '../ssh/settings.js';
import type { CommandRun } from './command-spec.js';
import { durationMs } from './option-values.js';
import type { SPECS } from './specs.js';

const DAY_MS = 86_400_000;

function port(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 65535) throw new UsageError(`--port takes a port from 1 to 65535, not '${value}'`);
  return Number(value);
}

/** 90 s, 5 min, 12 h: a duration as the stop line says it. */
function spoken(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000} h`;
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  return `${Math.round(ms / 1000)} s`;
}

function stopLine(end: WebSshEnd): string {
  return end.why === 'idle' ? `web-ssh stopped: no tab was open for ${spoken(end.ms)}.` : `web-ssh stopped: the page's token expired after ${spoken(end.ms)}.`;
}

export const run: CommandRun<(typeof SPECS)['web-ssh']> = async (ctx, { args: { appName }, options }) => {
  const request = {
    appName,
    port: port(options.port),
    skipHostValidation: options.skipHostValidation,
    appEnv: options.appEnv,
    idleMs: durationMs('--idle', options.idle ?? '5m', DAY_MS),
    lifetimeMs: durationMs('--lifetime', options.lifetime ?? '12h', 7 * DAY_MS),
    open: !options.noOpen,
  };
  checkSshSettings(ctx.env);
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const end = await runWebSsh(ctx, cf, request, {
    notice: ctx.term.notice,
    spin: (text, work) => ctx.term.spin(text, work),
    serving: (url, opening) => {
      const address = url.replace(/#.*/, '');
      const stop = 'Press Ctrl-C to stop.';
      // The address with its token goes to stdout, for the user (or a program) to open: also
      // after an opener said yes, as a browser in a sandbox (snap, flatpak) cannot read TMPDIR's file.
      ctx.term.out(url);
      if (opening && 'opened' in opening) {
        return ctx.term.notice(`Opened ${appName}'s terminal (${address}) in the browser with ${opening.opened}; if no page shows, open the address above. ${stop}`);
      }
      if (opening) ctx.term.notice(`Could not open a browser (${opening.failed}): open the address above in one. ${stop}`);
      else ctx.term.notice(`${appName}'s terminal is served at the address above: open it in a browser on this machine. ${stop}`);
    },
  });
  ctx.term.notice(stopLine(end));
  return 0;
};
