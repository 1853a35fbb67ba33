import type { CommandRun } from '../cli.js';
import { UserError } from '../errors.js';

export const run: CommandRun = async (ctx) => {
  throw new UserError(`'${ctx.bin} ssh' is not available in this version yet; use 'cf ssh' meanwhile.`);
};
