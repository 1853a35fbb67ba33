import { loggedInClients } from '../actions/cf-clients.js';
import { ensureSshEnabled, findInstance, sshEndpoint, sshUsername } from '../actions/ssh.js';
import { oneTimeCode } from '../actions/ssh-code.js';
import { UsageError } from '../errors.js';
import type { CommandRun } from './command-spec.js';
import { instanceIndex } from './option-values.js';
import type { SPECS } from './specs.js';

export const run: CommandRun<(typeof SPECS)['ssh-code']> = async (ctx, { args: { appName }, options }) => {
  if (!options.openssh) {
    if (appName) throw new UsageError(`unexpected argument "${appName}": with an app, give --openssh for ready ssh, scp and sftp command lines`);
    ctx.term.out(await oneTimeCode(await loggedInClients(ctx, 'login', ctx.term.notice)));
    return;
  }
  if (!appName) throw new UsageError('the required argument `APP_NAME` was not provided with --openssh');
  const index = instanceIndex(options.appInstanceIndex) ?? 0;
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  const endpoint = await sshEndpoint(cf);
  const target = await findInstance(cf, appName, options.process ?? 'web', index);
  await ensureSshEnabled(cf, target.app, ctx.bin);
  const user = sshUsername(target);
  const code = await oneTimeCode(cf, endpoint);
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  ctx.term.out(`ssh -p ${endpoint.port} ${user}@${host}`);
  ctx.term.out(`scp -P ${endpoint.port} -o User=${user} LOCAL_FILE ${host}:REMOTE_PATH`);
  // scp and sftp take the first colon of user@host for the end of the host: the user goes in -o User=.
  ctx.term.out(`sftp -P ${endpoint.port} -o User=${user} ${host}`);
  ctx.term.out(`Password (one-time code, good for one connection): ${code}`);
};
