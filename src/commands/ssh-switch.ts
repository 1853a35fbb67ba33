// enable-ssh / disable-ssh and allow-space-ssh / disallow-space-ssh: one shape, cf's words.
// Turning a switch to the state it already has changes nothing and still exits 0, so
// compliance scripts can run these as often as they like.
import { loggedInClients } from '../actions/cf-clients.js';
import { blockedTip, setAppSsh, setSpaceSsh, sshStatus } from '../actions/ssh-switches.js';
import type { CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';

const verb = (enabled: boolean) => (enabled ? 'Enabling' : 'Disabling');
const state = (enabled: boolean) => (enabled ? 'enabled' : 'disabled');

export function appSwitch(enabled: boolean): CommandRun<(typeof SPECS)['enable-ssh' | 'disable-ssh']> {
  return async (ctx, { args: { appName } }) => {
    const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
    ctx.term.out(`${verb(enabled)} ssh support for app ${appName} as ${cf.auth.username}...`);
    const { app, changed } = await setAppSsh(cf, appName, enabled);
    if (!changed) ctx.term.out(`ssh support for app '${appName}' is already ${state(enabled)}.`);
    ctx.term.ok();
    if (!enabled) return;
    const status = await sshStatus(cf, app);
    if (!status.enabled) ctx.term.out(`TIP: ${blockedTip(status, ctx.bin)}`);
    else if (!changed) ctx.term.out('TIP: An app restart may be required for the change to take effect.');
    else ctx.term.out('TIP: An app restart is required for the change to take effect.');
  };
}

export function spaceSwitch(enabled: boolean): CommandRun<(typeof SPECS)['allow-space-ssh' | 'disallow-space-ssh']> {
  return async (ctx, { args: { spaceName } }) => {
    const cf = await loggedInClients(ctx, 'org', ctx.term.notice);
    ctx.term.out(`${verb(enabled)} ssh support for space ${spaceName} as ${cf.auth.username}...`);
    const { changed } = await setSpaceSsh(cf, spaceName, enabled);
    if (!changed) ctx.term.out(`ssh support for space '${spaceName}' is already ${state(enabled)}.`);
    ctx.term.ok();
  };
}
