import { findSession } from '../actions/session.js';
import type { CommandRun } from '../cli.js';
import { tokenUsername } from '../uaa/jwt.js';

/** Logs out of the session in use: our own login's, or else the cf CLI's config.json. */
export const run: CommandRun = async (ctx) => {
  const found = await findSession(ctx);
  ctx.term.out(`Logging out ${tokenUsername(found?.state.accessToken ?? '')}...`);
  if (found?.store === ctx.ownStore) {
    await ctx.ownStore.clear();
  } else if (found) {
    const { state } = found;
    Object.assign(state, { accessToken: '', refreshToken: '', uaaClientSecret: '', grantType: '', org: undefined, space: undefined });
    await found.store.save(state);
  }
  ctx.term.ok();
};
