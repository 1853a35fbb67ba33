// The target table cf prints after login and target.
import type { StoredLogin } from '../config/login.js';
import type { Context } from '../context.js';
import { tokenUsername } from '../uaa/jwt.js';

export interface TargetView {
  api: string;
  apiVersion: string;
  user: string;
  org: string | null;
  space: string | null;
}

export function targetView(state: StoredLogin): TargetView {
  return {
    api: state.api,
    apiVersion: state.apiVersion,
    user: tokenUsername(state.accessToken),
    org: state.org?.name || null,
    space: state.space?.name || null,
  };
}

export function printTarget(ctx: Context, state: StoredLogin): void {
  const view = targetView(state);
  const row = (label: string, value: string) => ctx.term.out(`${`${label}:`.padEnd(16)}${value}`);
  row('API endpoint', view.api);
  row('API version', view.apiVersion);
  row('user', view.user);
  if (!view.org) {
    ctx.term.out(`No org or space targeted, use '${ctx.bin} target -o ORG -s SPACE'`);
    return;
  }
  row('org', view.org);
  row('space', view.space ?? `No space targeted, use '${ctx.bin} target -s SPACE'`);
}
