import { oneTimeCode } from '../actions/ssh-code.js';
import { openSession } from '../actions/session.js';
import type { CommandRun } from '../cli.js';

export const run: CommandRun = async (ctx) => {
  const session = await openSession(ctx, 'login');
  ctx.term.out(await oneTimeCode(session));
};
