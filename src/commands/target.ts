import { loggedInClients } from '../actions/cf-clients.js';
import { setTarget } from '../actions/target.js';
import type { CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';
import { printTarget, targetView } from './target-summary.js';

export const run: CommandRun<typeof SPECS.target> = async (ctx, { options }) => {
  const cf = await loggedInClients(ctx, 'login', ctx.term.notice);
  const choice = { org: options.org, space: options.space };
  if (choice.org || choice.space) {
    await setTarget(cf.cc, cf.login, choice, ctx.bin);
    await cf.store.save(cf.login);
  }
  if (options.json) ctx.term.out(JSON.stringify(targetView(cf.login), null, 2));
  else printTarget(ctx, cf.login);
};
