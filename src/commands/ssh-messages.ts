// What to tell a user whose SSH is off somewhere: which level, and who can turn it on.
import type { SshStatus } from '../actions/ssh-switches.js';
import type { Context } from '../context.js';

export function blockedTip(ctx: Context, status: SshStatus): string {
  switch (status.blockedBy) {
    case 'global':
      return 'SSH is disabled globally on this Cloud Foundry: only its operators can enable it.';
    case 'space':
      return `SSH is not allowed in space '${status.space}': an org manager can run '${ctx.bin} allow-space-ssh ${status.space}'.`;
    case 'app':
      return `SSH is disabled for app '${status.app}': a space developer can run '${ctx.bin} enable-ssh ${status.app}'.`;
    default:
      return 'Ensure ssh is also enabled on the space and global level.';
  }
}
