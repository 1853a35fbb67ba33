// Option values that need more checking than their type: a usage error in cf's words when they fail.
import { UsageError } from '../errors.js';

/** Diego keeps an instance's index in an int32. */
const MAX_INSTANCE_INDEX = 2 ** 31 - 1;

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
