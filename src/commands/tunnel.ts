// `tunnel APP -L SPEC... [--service NAME]`: the forwards checked here, held (and healed) by actions/tunnel.ts.
import { loggedInClients } from '../actions/cf-clients.js';
import { runTunnel } from '../actions/tunnel.js';
import { UsageError } from '../errors.js';
import { parseForwardSpec } from '../ssh/forward-spec.js';
import { checkSshSettings } from '../ssh/settings.js';
import type { CommandRun } from './command-spec.js';
import { printDetails } from './connect-to-service.js';
import { instanceIndex, localPort } from './option-values.js';
import type { SPECS } from './specs.js';

export const run: CommandRun<typeof SPECS.tunnel> = async (ctx, { args: { appName }, options }) => {
  const forwards = options.forwards.map(parseForwardSpec);
  if (forwards.length === 0 && !options.service) throw new UsageError('tunnel needs at least one -L [BIND_ADDRESS:]LOCAL_PORT:REMOTE_HOST:REMOTE_PORT, or --service');
  if (options.showPassword && !options.service) throw new UsageError('--show-password goes with --service');
  if (options.localPort !== undefined && !options.service) throw new UsageError('--local-port goes with --service (an -L names its own local port)');
  checkSshSettings(ctx.env);
  const cf = await loggedInClients(ctx, 'space', ctx.term.notice);
  return runTunnel(
    ctx,
    cf,
    {
      appName,
      processType: options.process ?? 'web',
      index: instanceIndex(options.appInstanceIndex) ?? 0,
      forwards,
      skipHostValidation: options.skipHostValidation,
      service: options.service,
      serviceLocalPort: localPort(options.localPort),
    },
    { notice: ctx.term.notice, spin: (text, work) => ctx.term.spin(text, work), tunnelOpen: (tunnel) => printDetails(ctx, tunnel, options.showPassword) },
  );
};
