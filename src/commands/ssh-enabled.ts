import { loggedInClients } from '../actions/cf-clients.js';
import { findApp } from '../actions/lookup.js';
import { blockedTip, sshStatus } from '../actions/ssh-switches.js';
import type { CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';

export const run: CommandRun<(typeof SPECS)['ssh-enabled']> = async (ctx, { args: { appName }, options }) => {
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const status = await sshStatus(cf, await findApp(cf, appName));
  if (options.json) {
    ctx.term.out(JSON.stringify(status, null, 2));
    return;
  }
  ctx.term.out(`ssh support is ${status.enabled ? 'enabled' : 'disabled'} for app '${appName}'.`);
  if (status.enabled) return;
  if (status.reason) ctx.term.out(status.reason);
  ctx.term.out(blockedTip(status, ctx.bin));
};
