import { openSession } from '../actions/session.js';
import { setTarget } from '../actions/target.js';
import type { CommandRun } from '../cli.js';
import { printTarget, targetView } from './target-summary.js';

export const run: CommandRun = async (ctx, { options }) => {
  const session = await openSession(ctx, 'login');
  const choice = { org: options.o as string | undefined, space: options.s as string | undefined };
  if (choice.org || choice.space) {
    await setTarget(session.cc, session.state, choice, ctx.bin);
    await session.store.save(session.state);
  }
  if (options.json) ctx.term.out(JSON.stringify(targetView(session.state), null, 2));
  else printTarget(ctx, session.state);
};
