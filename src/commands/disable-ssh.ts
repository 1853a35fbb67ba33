// disable-ssh APP, or disable-ssh --expired [--dry-run] for every app of the targeted space
// whose time-boxed grant has expired: what a scheduled job runs to end them.
import { type CfClients, loggedInClients, targetedSpace } from '../actions/cf-clients.js';
import { endExpiredGrants } from '../actions/ssh-switches.js';
import type { Context } from '../context.js';
import { UsageError, UserError } from '../errors.js';
import type { CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';
import { DISABLED_TIP, grantText, switchApp } from './ssh-switch.js';

export const run: CommandRun<(typeof SPECS)['disable-ssh']> = async (ctx, { args: { appName }, options }) => {
  if (options.expired) {
    if (appName !== undefined) throw new UsageError('--expired looks at every app of the targeted space: give it no APP_NAME.');
    return disableExpired(ctx, await loggedInClients(ctx, 'space', ctx.term.notice), options.dryRun);
  }
  if (appName === undefined) throw new UsageError('the required argument `APP_NAME` was not provided');
  if (options.dryRun) throw new UsageError('--dry-run goes with --expired.');
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const { changed, previousGrant } = await switchApp(ctx, cf, appName, false);
  if (previousGrant) ctx.term.out(`Its time-boxed grant (${grantText(previousGrant, ctx)}) is removed.`);
  if (changed) ctx.term.out(DISABLED_TIP);
};

async function disableExpired(ctx: Context, cf: CfClients, dryRun: boolean): Promise<void> {
  const { term } = ctx;
  term.out(`${dryRun ? 'Looking for' : 'Disabling'} ssh support for apps whose grant has expired in space ${targetedSpace(cf).name} as ${cf.auth.username}...`);
  const { ended, running } = await endExpiredGrants(cf, ctx.now(), dryRun);
  for (const { app, grant, wasEnabled, failure } of ended) {
    const change = wasEnabled ? 'ssh disabled, grant removed' : 'ssh was already disabled, grant removed';
    const done = failure ? `FAILED: ${failure}` : dryRun ? `would be: ${change}` : change;
    term.out(`${app.name}: ${grantText(grant, ctx)}: ${done}`);
  }
  for (const { app, grant } of running) term.out(`${app.name}: ${grantText(grant, ctx)}: left on`);
  if (ended.length === 0) term.out('No grant has expired.');
  const failed = ended.filter((e) => e.failure).length;
  if (failed > 0) throw new UserError(`${failed} of ${ended.length} expired grants could not be ended; the others were.`);
  if (dryRun && ended.length > 0) term.out('Nothing was changed (--dry-run).');
  term.ok();
  if (!dryRun && ended.some((e) => e.wasEnabled)) term.out(DISABLED_TIP);
}
