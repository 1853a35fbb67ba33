import { loggedInClients } from '../actions/cf-clients.js';
import { spaceSshAllowed } from '../actions/ssh-switches.js';
import type { CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';

export const run: CommandRun<(typeof SPECS)['space-ssh-allowed']> = async (ctx, { args: { spaceName }, options }) => {
  const cf = await loggedInClients(ctx, 'org', ctx.term.notice);
  const { space, enabled } = await spaceSshAllowed(cf, spaceName);
  if (options.json) ctx.term.out(JSON.stringify({ space: space.name, enabled }, null, 2));
  else ctx.term.out(`ssh support is ${enabled ? 'enabled' : 'disabled'} in space '${spaceName}'.`);
};
