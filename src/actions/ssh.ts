// What `ssh` means on Cloud Foundry: the SSH endpoint from the API root, the app →
// process → instance to connect to (with cf's checks and clearer messages), whether SSH is
// on at every level, and the connection itself with a fresh one-time code.
import { isIP } from 'node:net';
import type { App, InstanceStats, Process, RootInfo, SshEnabled } from '../cf/cloud-controller.js';
import { UserError } from '../errors.js';
import { notAHost, parseHost, splitOnColons } from '../net/hosts.js';
import type { CfClients } from './cf-clients.js';
import { findApp } from './lookup.js';
import { blockedTip, sshStatus } from './ssh-switches.js';

export interface SshEndpoint {
  host: string;
  port: number;
  fingerprint: string;
  /** The UAA client whose one-time codes the proxy takes, where the root names one. */
  oauthClient?: string;
}

export interface InstanceTarget {
  app: App;
  process: Process;
  index: number;
  stats: InstanceStats[];
}

export async function sshEndpoint(cf: CfClients): Promise<SshEndpoint> {
  return endpointOf((await cf.cc.root()).links.app_ssh);
}

/** The SSH proxy an API root's app_ssh link names, checked. */
export function endpointOf(appSsh: RootInfo['links']['app_ssh']): SshEndpoint {
  const href = appSsh?.href ?? '';
  if (!href) throw new UserError('SSH endpoint not set');
  const fingerprint = appSsh?.meta?.host_key_fingerprint ?? '';
  if (!fingerprint) throw new UserError('SSH hostkey fingerprint not set');
  const oauthClient = appSsh?.meta?.oauth_client;
  return { ...sshAddress(href), fingerprint, ...(oauthClient && { oauthClient }) };
}

/** Diego's SSH proxy port, where the API root gives none. */
const DEFAULT_SSH_PORT = 2222;

/**
 * The API root's app_ssh link: HOST[:PORT], [IPV6][:PORT] or a bare IPv6 address, the port 2222
 * when none is given. Checked before it is dialled: a bare number is no host to look up.
 */
function sshAddress(href: string): { host: string; port: number } {
  const refuse = (why: string) => new UserError(`The API root's app_ssh link '${href}' is not HOST:PORT${why}.`);
  if (isIP(href) === 6) return { host: href, port: DEFAULT_SSH_PORT };
  const [hostText, portText, ...more] = splitOnColons(href) ?? [];
  if (!hostText || more.length > 0 || (portText !== undefined && !/^\d+$/.test(portText))) throw refuse('');
  const host = parseHost(hostText);
  if (host === undefined) throw refuse(`: ${notAHost(hostText)}`);
  const port = portText === undefined ? DEFAULT_SSH_PORT : Number(portText);
  if (!(port >= 1 && port <= 65535)) throw refuse(': its port must be from 1 to 65535');
  return { host, port };
}

/** Picks one of several running instances (the interactive picker); not called for one instance. */
export type InstanceChooser = (app: App, process: Process, stats: InstanceStats[]) => Promise<number>;

/** A process remembered for the app, and its instances' look-up already under way. */
export interface ProcessGuess {
  appGuid: string;
  processGuid: string;
  stats: Promise<InstanceStats[]>;
}

/** The process and its instances as `guess` has them, when the app is the one it was made for and the process still its `processType`. */
async function confirmedGuess(guess: ProcessGuess | undefined, app: App, processType: string): Promise<{ process: Process; stats: InstanceStats[] } | undefined> {
  if (guess?.appGuid !== app.guid) return undefined;
  const stats = await guess.stats.catch(() => undefined);
  // Without instances nothing tells the process's type: looked up as if nothing were remembered.
  if (!stats?.length || !stats.every((s) => s.type === processType)) return undefined;
  return { process: { guid: guess.processGuid, type: processType, instances: stats.length }, stats };
}

/** The app, refused unless started: its instances are what SSH reaches. */
export async function startedApp(cf: CfClients, appName: string): Promise<App> {
  const app = await findApp(cf, appName);
  if (app.state !== 'STARTED') throw new UserError(`Application '${appName}' is not in the STARTED state`);
  return app;
}

export async function processAndStats(cf: CfClients, app: App, processType: string): Promise<{ process: Process; stats: InstanceStats[] }> {
  const processes = await cf.cc.processes(app.guid);
  const process = processes.find((p) => p.type === processType);
  if (!process) {
    const types = processes.map((p) => p.type).join(', ');
    throw new UserError(`Process ${processType} not found${types ? `: ${app.name} has ${types}` : ''}.`);
  }
  return { process, stats: await cf.cc.processStats(process.guid) };
}

export async function findInstance(
  cf: CfClients,
  appName: string,
  processType: string,
  index: number | undefined,
  choose?: InstanceChooser,
  guess?: ProcessGuess,
  /** Told the app as soon as it is found, for look-ups of the caller's to start alongside ours. */
  onApp?: (app: App) => void,
): Promise<InstanceTarget> {
  const app = await startedApp(cf, appName);
  onApp?.(app);
  const { process, stats } = (await confirmedGuess(guess, app, processType)) ?? (await processAndStats(cf, app, processType));
  const chosen = index ?? (choose && stats.length > 1 ? await choose(app, process, stats) : 0);
  const instance = stats.find((s) => s.index === chosen);
  if (!instance) {
    const range = stats.length === 0 ? 'none are' : stats.length === 1 ? 'only index 0 is' : `indexes 0 to ${stats.length - 1} are`;
    throw new UserError(
      `Instance ${chosen} of process ${processType} not found: ${appName} has ${stats.length} ${process.type} instance${stats.length === 1 ? '' : 's'} (${range} valid).`,
    );
  }
  if (instance.state !== 'RUNNING') {
    throw new UserError(`Instance ${chosen} of process ${processType} not running: it is ${instance.state}${instance.details ? ` (${instance.details})` : ''}.`);
  }
  return { app, process, index: chosen, stats };
}

/** cf says only "not authorized" when SSH is off; this names the level before connecting. `enabled` is the app's ssh_enabled, when already asked. */
export async function ensureSshEnabled(cf: CfClients, app: App, bin: string, enabled?: Promise<SshEnabled>): Promise<void> {
  if ((await (enabled ?? cf.cc.sshEnabled(app.guid))).enabled) return;
  throw new UserError(blockedTip(await sshStatus(cf, app), bin));
}

/** An instance's uptime as the pickers show it (3m12s, 5h2m, 2d4h); '-' unless it runs. */
export function uptimeText(instance: InstanceStats): string {
  if (instance.state !== 'RUNNING') return '-';
  const seconds = instance.uptime ?? 0;
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d > 0 ? `${d}d${h}h` : h > 0 ? `${h}h${m}m` : `${m}m${Math.floor(seconds % 60)}s`;
}

export function sshUsername(target: InstanceTarget): string {
  return `cf:${target.process.guid}/${target.index}`;
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Starts the shell or command the way the app's own process starts (the buildpack
 * launcher): in the app folder, HOME the app folder, TMPDIR and DEPS_DIR set, the
 * buildpacks' profile.d scripts, the app's .profile.d scripts and .profile sourced.
 * Paths follow the container's HOME (/home/vcap on Diego).
 */
export function appEnvCommand(command: string | undefined): string {
  const prelude = [
    'root="${HOME:-/home/vcap}"',
    'cd "$root/app" || exit 1',
    'export HOME="$root/app" TMPDIR="$root/tmp" DEPS_DIR="$root/deps"',
    'for f in "$root"/profile.d/*.sh "$HOME"/.profile.d/*; do [ -f "$f" ] && . "$f"; done',
    '[ -f "$HOME/.profile" ] && . "$HOME/.profile"',
  ].join('; ');
  return `${prelude}; ${command === undefined ? 'exec /bin/bash' : `exec /bin/bash -c ${quote(command)}`}`;
}
