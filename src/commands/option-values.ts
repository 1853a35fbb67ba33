// Option values that need more checking than their type: a usage error in cf's words when they fail.
import { UsageError } from '../errors.js';

export function instanceIndex(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`invalid argument for flag '--app-instance-index, -i': '${value}' is not an instance index (0, 1, 2, ...)`);
  return Number(value);
}

export function localPort(value: string | undefined): number {
  if (value === undefined) return 0;
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new UsageError(`--local-port takes a port from 0 to 65535, not '${value}'`);
  return Number(value);
}
