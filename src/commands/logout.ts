import { logOut } from '../actions/logout.js';
import { findSession } from '../actions/session.js';
import type { CommandRun } from '../cli.js';
import { tokenUsername } from '../uaa/jwt.js';

export const run: CommandRun = async (ctx) => {
  const found = await findSession(ctx);
  ctx.term.out(`Logging out ${tokenUsername(found?.state.accessToken ?? '')}...`);
  if (found) await logOut(ctx, found.store, found.state);
  ctx.term.ok();
};
