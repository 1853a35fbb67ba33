// The control API's compliance settings: how ssh_enabled words its reasons (today's CC or the
// pre-2019 one), how long audit events are kept, and how long a rolling deployment takes.
import type { Deployments } from './deployments.js';
import { json, type Router } from './router.js';
import { SSH_REASON_WORDINGS, type SshReasonWording, type World } from './state.js';

export function complianceControlRoutes(router: Router, world: World, deployments: Deployments): void {
  router.on('PUT', /^\/foundation\/compliance$/, (req) => {
    const body = req.json<{ ssh_reason_wording?: SshReasonWording; audit_retention_days?: number; rollout_ms?: number }>();
    const { ssh_reason_wording: wording, audit_retention_days: retention, rollout_ms: rollout } = body;
    if (wording !== undefined && !SSH_REASON_WORDINGS.includes(wording)) return json(422, { error: `ssh_reason_wording is one of ${SSH_REASON_WORDINGS.join(', ')}` });
    if (retention !== undefined && !(typeof retention === 'number' && retention > 0)) return json(422, { error: 'audit_retention_days is a number above 0' });
    if (rollout !== undefined && !(Number.isInteger(rollout) && rollout >= 0)) return json(422, { error: 'rollout_ms is a whole number of 0 or more' });
    if (wording !== undefined) world.sshReasonWording = wording;
    if (retention !== undefined) world.audit.retentionDays = retention;
    if (rollout !== undefined) deployments.rolloutMs = rollout;
    return json(200, { ssh_reason_wording: world.sshReasonWording, audit_retention_days: world.audit.retentionDays, rollout_ms: deployments.rolloutMs });
  });
}
