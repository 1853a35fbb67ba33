import { loggedInClients } from '../actions/cf-clients.js';
import { findApp } from '../actions/lookup.js';
import { sshGrantOf, utcText } from '../actions/ssh-grant.js';
import { blockedTip, sshStatus } from '../actions/ssh-switches.js';
import type { CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';
import { grantText, ownCommand } from './ssh-switch.js';

export const run: CommandRun<(typeof SPECS)['ssh-enabled']> = async (ctx, { args: { appName }, options }) => {
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const app = await findApp(cf, appName);
  const status = await sshStatus(cf, app);
  const grant = sshGrantOf(app, ctx.now());
  if (options.json) {
    const grantJson = grant ? { expiresAt: grant.expiresAt ? utcText(grant.expiresAt) : null, reason: grant.reason ?? null, expired: grant.expired } : null;
    ctx.term.out(JSON.stringify({ ...status, grant: grantJson }, null, 2));
    return;
  }
  ctx.term.out(`ssh support is ${status.enabled ? 'enabled' : 'disabled'} for app '${appName}'.`);
  if (grant) ctx.term.out(`Time-boxed: ${grantText(grant, ctx)}.`);
  // An expired grant ends only when someone ends it: until then SSH is as open as ever.
  if (grant?.expired && status.levels.app !== false) {
    ctx.term.err(
      `WARNING: the SSH grant of app '${appName}' has expired but SSH is still enabled for it. It stays so until someone runs '${ownCommand(ctx, 'disable-ssh')} --expired' or '${ctx.bin} ssh-audit --enforce' in space '${status.space}'.`,
    );
  }
  if (status.enabled) return;
  if (status.reason) ctx.term.out(status.reason);
  ctx.term.out(blockedTip(status, ctx.bin));
};
