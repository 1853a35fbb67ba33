import { findLogin } from '../actions/cf-clients.js';
import { logOut } from '../actions/logout.js';
import { tokenUsername } from '../uaa/jwt.js';
import type { CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';

export const run: CommandRun<typeof SPECS.logout> = async (ctx) => {
  const found = await findLogin(ctx);
  ctx.term.out(`Logging out ${tokenUsername(found?.login.accessToken ?? '')}...`);
  if (found) await logOut(ctx, found.store, found.login, ctx.term.notice);
  ctx.term.ok();
};
