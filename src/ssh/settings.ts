// The SSH connection's timings from the environment, each checked: a value that is not a
// number, or too small or large (past 2^31-1 ms Node's timers fire at once), is one line
// naming the variable and its range, never a connection that waits forever or never starts.
import { UserError } from '../errors.js';

type Env = Readonly<Record<string, string | undefined>>;

interface SecondsSetting {
  variable: string;
  fallback: number;
  min: number;
  max: number;
}

/** cf's CF_DIAL_TIMEOUT: seconds to open the TCP connection (through a proxy, if any). */
const DIAL_TIMEOUT: SecondsSetting = { variable: 'CF_DIAL_TIMEOUT', fallback: 6, min: 1, max: 3600 };

/** Seconds between keepalives; three unanswered ones declare the connection lost. */
const KEEPALIVE: SecondsSetting = { variable: 'CF_SSH_TOOLS_KEEPALIVE_SECONDS', fallback: 30, min: 1, max: 86400 };

/** Unanswered keepalives before a connection counts as lost (cf's, and our OpenSSH hand-off's). */
export const KEEPALIVE_COUNT_MAX = 3;

/** After the dial, how long the endpoint has to complete the SSH handshake. */
export const SSH_HANDSHAKE_MS = 10_000;

function milliseconds(env: Env, setting: SecondsSetting): number {
  const raw = env[setting.variable];
  if (raw === undefined || raw.trim() === '') return setting.fallback * 1000;
  // Whole seconds, as cf reads CF_DIAL_TIMEOUT and OpenSSH its ServerAliveInterval.
  const seconds = /^\s*\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(seconds >= setting.min && seconds <= setting.max)) {
    throw new UserError(`${setting.variable} must be a whole number of seconds from ${setting.min} to ${setting.max}, not '${raw}'.`);
  }
  return seconds * 1000;
}

export function dialTimeoutMs(env: Env): number {
  return milliseconds(env, DIAL_TIMEOUT);
}

export function keepaliveMs(env: Env): number {
  return milliseconds(env, KEEPALIVE);
}

/** Checks every SSH timing at once, so a bad value fails before any request is made. */
export function checkSshSettings(env: Env): void {
  dialTimeoutMs(env);
  keepaliveMs(env);
}

/** The one bound within which an endpoint that accepts TCP but never speaks SSH must fail. */
export function handshakeTimeoutMs(env: Env): number {
  return dialTimeoutMs(env) + SSH_HANDSHAKE_MS;
}

/** What a silent SSH endpoint (TCP accepted, no SSH answer) is told, with the bound and both its parts. */
export function silentEndpointMessage(host: string, port: number, env: Env): string {
  const seconds = (ms: number) => `${ms / 1000} s`;
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return (
    `Error opening SSH connection: no SSH answer from ${where} within ${seconds(handshakeTimeoutMs(env))} ` +
    `(${DIAL_TIMEOUT.variable} ${seconds(dialTimeoutMs(env))} to connect + ${seconds(SSH_HANDSHAKE_MS)} for the SSH handshake).`
  );
}
