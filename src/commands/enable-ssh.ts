// enable-ssh APP [--for DURATION [--reason REASON]] [--restart rolling]: SSH on, for a time if
// asked (the grant kept in the app's annotations), and the instances restarted if asked, since
// Diego starts an instance's SSH server only when the instance starts with SSH enabled.
import { type CfClients, loggedInClients } from '../actions/cf-clients.js';
import { withLifecycle } from '../actions/lifecycle.js';
import { grantDuration, grantReason } from '../actions/ssh-grant.js';
import { blockedTip, DEPLOYMENT_WAIT_MS, deploymentOutcome, sshStatus, startRollingRestart, type TimeBox } from '../actions/ssh-switches.js';
import type { App } from '../cf/cloud-controller.js';
import type { Context } from '../context.js';
import { LimitError, StoppedError, UsageError, UserError } from '../errors.js';
import type { CommandRun } from './command-spec.js';
import type { SPECS } from './specs.js';
import { bothTimes, grantText, ownCommand, switchApp } from './ssh-switch.js';

type Options = Parameters<CommandRun<(typeof SPECS)['enable-ssh']>>[1]['options'];

/** The grant the options ask for, checked before anything is sent; to the second, as the annotation holds it. */
function timeBoxOf(options: Options, now: number): TimeBox | undefined {
  if (options.duration === undefined) {
    // A reason needs an expiry to sit beside: SSH enabled for good has no grant to record it in.
    if (options.reason !== undefined) throw new UsageError('--reason goes with --for: it is kept beside the expiry of a time-boxed grant.');
    return undefined;
  }
  const ms = grantDuration(options.duration);
  return { expiresAt: new Date(Math.floor((now + ms) / 1000) * 1000), reason: options.reason === undefined ? undefined : grantReason(options.reason) };
}

export const run: CommandRun<(typeof SPECS)['enable-ssh']> = async (ctx, { args: { appName }, options }) => {
  if (options.restart !== undefined && options.restart !== 'rolling')
    throw new UsageError(`--restart '${options.restart}' is no strategy cf-ssh-tools knows: use --restart rolling.`);
  const timeBox = timeBoxOf(options, ctx.now());
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const { app, changed, previousGrant } = await switchApp(ctx, cf, appName, true, timeBox);
  const { term, bin } = ctx;
  if (timeBox) {
    term.out(`SSH for app '${appName}' is granted until ${bothTimes(timeBox.expiresAt, ctx.env)}${timeBox.reason === undefined ? '' : `: ${timeBox.reason}`}.`);
    term.out(`It stays on until the first '${ownCommand(ctx, 'disable-ssh')} --expired' or '${bin} ssh-audit --enforce' in this space after that time.`);
  } else if (previousGrant) {
    term.out(`SSH for app '${appName}' is no longer time-boxed (the grant was ${grantText(previousGrant, ctx)}): it stays on until disabled.`);
  }
  const status = await sshStatus(cf, app);
  if (!status.enabled) {
    term.out(`TIP: ${blockedTip(status, bin)}`);
    if (options.restart) term.out('Not restarting: the instances would start without SSH all the same.');
    return;
  }
  if (options.restart) return rollingRestart(ctx, cf, app);
  term.out(changed ? 'TIP: An app restart is required for the change to take effect.' : 'TIP: An app restart may be required for the change to take effect.');
  term.out(
    `Instances start their SSH server only when they start with SSH enabled: '${ownCommand(ctx, 'enable-ssh')} ${appName} --restart rolling' restarts them one by one, so the app keeps serving.`,
  );
};

/** Restarts the app's instances with a rolling deployment and waits for it; Ctrl-C stops the wait, not the deployment. */
async function rollingRestart(ctx: Context, cf: CfClients, app: App): Promise<void> {
  const { term } = ctx;
  if (app.state !== 'STARTED') {
    term.out(`App '${app.name}' is stopped: its instances start with SSH when it is started. Not restarting.`);
    return;
  }
  term.out(`Restarting app ${app.name} with a rolling deployment as ${cf.auth.username}, so that its instances start with SSH...`);
  const started = await startRollingRestart(cf, app);
  term.out(`Deployment ${started.guid} started.`);
  const follow = `follow it with 'cf app ${app.name}'`;
  let outcome;
  try {
    outcome = await withLifecycle(ctx, term, (life) => term.spin(`Waiting for the rolling deployment of app ${app.name}`, () => deploymentOutcome(cf.cc, started, life.signal)));
  } catch (err) {
    if (err instanceof StoppedError) {
      term.err(
        `Stopped waiting. The rolling deployment ${started.guid} of app '${app.name}' goes on in Cloud Foundry: ${follow}, or stop it with 'cf cancel-deployment ${app.name}'.`,
      );
    }
    throw err;
  }
  const { deployment, reason } = outcome;
  if (!outcome.finished) {
    throw new LimitError(
      `The rolling deployment ${deployment.guid} of app '${app.name}' is still ${reason} after ${DEPLOYMENT_WAIT_MS / 60_000} minutes; it goes on in Cloud Foundry: ${follow}.`,
    );
  }
  if (reason === 'SUPERSEDED') {
    throw new UserError(`The rolling deployment ${deployment.guid} of app '${app.name}' was SUPERSEDED by a newer one, whose instances start with SSH too: ${follow}.`);
  }
  if (!outcome.deployed) {
    throw new UserError(
      `The rolling deployment ${deployment.guid} of app '${app.name}' ended ${reason}: the instances it did not replace run without SSH. See 'cf events ${app.name}' and 'cf app ${app.name}'.`,
    );
  }
  term.out(`Deployment ${deployment.guid} ${reason}: the instances of app '${app.name}' run with SSH.`);
  term.ok();
}
