import { openSession } from '../actions/session.js';
import { blockedTip, findApp, sshStatus } from '../actions/ssh-switches.js';
import type { CommandRun } from '../cli.js';

export const run: CommandRun = async (ctx, { args: [appName], options }) => {
  const session = await openSession(ctx);
  const status = await sshStatus(session, await findApp(session, appName));
  if (options.json) {
    ctx.term.out(JSON.stringify(status, null, 2));
    return;
  }
  ctx.term.out(`ssh support is ${status.enabled ? 'enabled' : 'disabled'} for app '${appName}'.`);
  if (status.enabled) return;
  if (status.reason) ctx.term.out(status.reason);
  ctx.term.out(blockedTip(status, ctx.bin));
};
