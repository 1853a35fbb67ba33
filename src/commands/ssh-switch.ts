// enable-ssh / disable-ssh and allow-space-ssh / disallow-space-ssh: one shape, cf's words.
// Turning a switch to the state it already has changes nothing and still exits 0, so
// compliance scripts can run these as often as they like.
import { type CfClients, loggedInClients } from '../actions/cf-clients.js';
import { type SshGrant, utcText } from '../actions/ssh-grant.js';
import { type AppSwitchResult, setAppSsh, setSpaceSsh, type TimeBox } from '../actions/ssh-switches.js';
import type { Context } from '../context.js';
import type { CommandRun } from './command-spec.js';
import { SPECS } from './specs.js';

const verb = (enabled: boolean) => (enabled ? 'Enabling' : 'Disabling');
const state = (enabled: boolean) => (enabled ? 'enabled' : 'disabled');

/** Sets the app's switch (and its grant, see setAppSsh) in cf's words: what is done, as whom; already so; OK. */
export async function switchApp(ctx: Context, cf: CfClients, appName: string, enabled: boolean, timeBox?: TimeBox): Promise<AppSwitchResult> {
  ctx.term.out(`${verb(enabled)} ssh support for app ${appName} as ${cf.auth.username}...`);
  const result = await setAppSsh(cf, appName, enabled, ctx.now(), timeBox);
  if (!result.changed) ctx.term.out(`ssh support for app '${appName}' is already ${state(enabled)}.`);
  ctx.term.ok();
  return result;
}

export function spaceSwitch(enabled: boolean): CommandRun<(typeof SPECS)['allow-space-ssh' | 'disallow-space-ssh']> {
  return async (ctx, { args: { spaceName } }) => {
    const cf = await loggedInClients(ctx, 'org', ctx.term.notice);
    ctx.term.out(`${verb(enabled)} ssh support for space ${spaceName} as ${cf.auth.username}...`);
    const { changed } = await setSpaceSsh(cf, spaceName, enabled);
    if (!changed) ctx.term.out(`ssh support for space '${spaceName}' is already ${state(enabled)}.`);
    ctx.term.ok();
  };
}

/**
 * How to run one of our commands from where this run was started: inside cf, enable-ssh is cf's
 * own, without our options, and ours goes by its plugin name.
 */
export function ownCommand(ctx: Context, name: 'enable-ssh' | 'disable-ssh'): string {
  return ctx.bin === 'cf' ? `cf ${SPECS[name].pluginName}` : `${ctx.bin} ${name}`;
}

/** What disabling means, said where SSH is disabled: nothing needs restarting. */
export const DISABLED_TIP =
  'TIP: New SSH logins are refused from now on (the SSH proxy asks Cloud Controller at each login); sessions already open stay until they end. No restart is needed.';

const LOCAL_TIME: Intl.DateTimeFormatOptions = {
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
  timeZoneName: 'shortOffset',
};

/** The user's time zone: TZ as the run's environment has it, the system's when it names none we know. */
function localFormat(env: NodeJS.ProcessEnv): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-GB', { ...LOCAL_TIME, timeZone: env.TZ || undefined });
  } catch {
    return new Intl.DateTimeFormat('en-GB', LOCAL_TIME);
  }
}

/** A moment in local time and in UTC, as the grant's annotation holds it: "2026-12-01 14:00 GMT+1 (2026-12-01T13:00:00Z)". */
export function bothTimes(date: Date, env: NodeJS.ProcessEnv): string {
  const parts = localFormat(env).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${part('timeZoneName')} (${utcText(date)})`;
}

/** A span of time to the minute, largest units first: "1d 2h", "2h 5m", "0m". */
export function spanText(ms: number): string {
  const minutes = Math.floor(Math.abs(ms) / 60_000);
  const units = [
    [Math.floor(minutes / 1440), 'd'],
    [Math.floor(minutes / 60) % 24, 'h'],
    [minutes % 60, 'm'],
  ] as const;
  const shown = units.filter(([amount]) => amount > 0).map(([amount, unit]) => `${amount}${unit}`);
  return shown.length > 0 ? shown.join(' ') : '0m';
}

/** A grant in one line: until when, how long from now (or since when expired), and why. */
export function grantText(grant: SshGrant, ctx: Context): string {
  const reason = grant.reason === undefined ? '' : `; reason: ${grant.reason}`;
  if (!grant.expiresAt) return `its expiry annotation holds no UTC time cf-ssh-tools can read, so it counts as expired${reason}`;
  const left = grant.expiresAt.getTime() - ctx.now();
  const when = bothTimes(grant.expiresAt, ctx.env);
  return grant.expired ? `expired at ${when}, ${spanText(left)} ago${reason}` : `until ${when}, ${spanText(left)} from now${reason}`;
}
