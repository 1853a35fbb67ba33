// Option values that need more checking than their type: a usage error in cf's words when they fail.
import { UsageError } from '../errors.js';
import { parseBindAddress } from '../ssh/forward-spec.js';

/** Diego keeps an instance's index in an int32. */
const MAX_INSTANCE_INDEX = 2 ** 31 - 1;

/**
 * The longest command an SSH server must take: RFC 4253 asks every server for packets of 32768
 * bytes of payload, and an exec request spends 18 of them around the command. Diego's and
 * OpenSSH's servers take more, but ssh2's takes no more, and bash -c no more than 128 KiB.
 */
export const MAX_COMMAND_BYTES = 32_768 - 18;

export function instanceIndex(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const flag = `invalid argument for flag '--app-instance-index, -i'`;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: '${value}' is not an instance index (0, 1, 2, ...)`);
  // Past 2^53 Number() rounds, but anything that large is far beyond the limit anyway.
  if (Number(value) > MAX_INSTANCE_INDEX) throw new UsageError(`${flag}: '${value}' is out of range (0 to ${MAX_INSTANCE_INDEX})`);
  return Number(value);
}

export function localPort(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`--local-port takes a port from 0 to 65535, not '${value}'`);
  return Number(value);
}

/** --bind: an IP address (an IPv6 one bare or in brackets: [::1] is never looked up) or a host name; 127.0.0.1 unless given. */
export function bindAddress(value: string | undefined): string {
  if (value === undefined) return '127.0.0.1';
  const address = parseBindAddress(value);
  if (address === undefined) throw new UsageError(`--bind takes an IP address or a host name of this machine, not '${value}'`);
  return address;
}

/** The command to send as it will be sent (with --app-env's start), refused past MAX_COMMAND_BYTES. */
export function remoteCommand(command: string): string {
  const size = Buffer.byteLength(command);
  if (size > MAX_COMMAND_BYTES) {
    throw new UsageError(
      `the command is ${size} bytes as sent, more than the ${MAX_COMMAND_BYTES} an SSH server must take: send a long script on stdin instead (-c bash < script.sh)`,
    );
  }
  return command;
}

const DURATION_UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration option's milliseconds: whole numbers with s, m, h or d (90s, 5m, 1h30m), from 1 s to `maxMs`. */
export function durationMs(flag: string, text: string, maxMs: number): number {
  const parts = /^(?:\d+[smhd])+$/.test(text) ? [...text.matchAll(/(\d+)([smhd])/g)] : [];
  if (parts.length === 0) throw new UsageError(`${flag} '${text}' is not a duration: give a whole number with s, m, h or d, such as 90s, 5m or 12h.`);
  const ms = parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * DURATION_UNIT_MS[unit as keyof typeof DURATION_UNIT_MS], 0);
  if (ms < 1000) throw new UsageError(`${flag} '${text}' is no time at all: give at least 1s.`);
  if (ms > maxMs) throw new UsageError(`${flag} '${text}' is longer than the ${maxMs / DURATION_UNIT_MS.d} days it may be.`);
  return ms;
}
