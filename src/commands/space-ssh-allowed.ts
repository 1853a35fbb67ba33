import { openSession } from '../actions/session.js';
import { spaceSshAllowed } from '../actions/ssh-switches.js';
import type { CommandRun } from '../cli.js';

export const run: CommandRun = async (ctx, { args: [spaceName], options }) => {
  const session = await openSession(ctx, 'org');
  const { space, enabled } = await spaceSshAllowed(session, spaceName);
  if (options.json) ctx.term.out(JSON.stringify({ space: space.name, enabled }, null, 2));
  else ctx.term.out(`ssh support is ${enabled ? 'enabled' : 'disabled'} in space '${spaceName}'.`);
};
