import { openSession } from '../actions/session.js';
import { ensureSshEnabled, findInstance, sshEndpoint, sshUsername } from '../actions/ssh.js';
import { oneTimeCode } from '../actions/ssh-code.js';
import type { CommandRun } from '../cli.js';
import { UsageError } from '../errors.js';
import { instanceIndex } from './ssh.js';

export const run: CommandRun = async (ctx, { args: [appName], options }) => {
  if (!options.openssh) {
    if (appName) throw new UsageError(`unexpected argument "${appName}": with an app, give --openssh for ready ssh, scp and sftp command lines`);
    ctx.term.out(await oneTimeCode(await openSession(ctx, 'login')));
    return;
  }
  if (!appName) throw new UsageError('the required argument `APP_NAME` was not provided with --openssh');
  const index = instanceIndex(options.appInstanceIndex as string | undefined) ?? 0;
  const session = await openSession(ctx);
  const endpoint = await sshEndpoint(session);
  const target = await findInstance(session, appName, (options.process as string | undefined) ?? 'web', index);
  await ensureSshEnabled(session, target.app, ctx.bin);
  const user = sshUsername(target);
  const code = await oneTimeCode(session, endpoint.root);
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  ctx.term.out(`ssh -p ${endpoint.port} ${user}@${host}`);
  ctx.term.out(`scp -P ${endpoint.port} -o User=${user} LOCAL_FILE ${host}:REMOTE_PATH`);
  ctx.term.out(`sftp -P ${endpoint.port} ${user}@${host}`);
  ctx.term.out(`Password (one-time code, good for one connection): ${code}`);
};
