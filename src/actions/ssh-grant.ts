// Time-boxed SSH: a grant is two annotations on the app, written in the same run that enables
// SSH. Annotations, not a file of ours, because CC records every metadata change as
// audit.app.update (toggling features/ssh records nothing), and because anyone's tools can read
// them: ssh-audit and `disable-ssh --expired` end what has expired, whoever runs them next.
import type { App } from '../cf/cloud-controller.js';
import { UsageError } from '../errors.js';

/** When the grant ends: ISO 8601 in UTC, to the second (2026-12-01T13:00:00Z). */
export const EXPIRES_AT_ANNOTATION = 'ssh.cf-ssh-tools/expires-at';
/** Why it was granted, as the user gave it (an incident number, say). */
export const REASON_ANNOTATION = 'ssh.cf-ssh-tools/reason';

/** The longest grant: time-boxed access that runs for months is no time box. */
export const MAX_GRANT_MS = 30 * 24 * 3600_000;
/** CC's limit on an annotation's value. */
const MAX_REASON_LENGTH = 5000;

const UNIT_MS = { m: 60_000, h: 3600_000, d: 24 * 3600_000 } as const;

export interface SshGrant {
  /** Undefined when the annotation holds no time we can read: treated as expired, so that enforcement ends it. */
  expiresAt?: Date;
  reason?: string;
  expired: boolean;
}

/**
 * `--for`'s duration in milliseconds: one or more of a whole number and a unit, m, h or d
 * (`90m`, `2h`, `1d12h`), at least a minute and at most 30 days.
 */
export function grantDuration(text: string): number {
  const parts = /^(?:\d+[mhd])+$/.test(text) ? [...text.matchAll(/(\d+)([mhd])/g)] : [];
  if (parts.length === 0) throw new UsageError(`--for '${text}' is not a duration: give a whole number with m, h or d, such as 30m, 2h or 1d12h.`);
  const ms = parts.reduce((sum, [, amount, unit]) => sum + Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS], 0);
  if (ms < UNIT_MS.m) throw new UsageError(`--for '${text}' is no time at all: give at least 1m.`);
  if (ms > MAX_GRANT_MS) throw new UsageError(`--for '${text}' is longer than ${MAX_GRANT_MS / UNIT_MS.d} days, the most a time-boxed grant may run.`);
  return ms;
}

/** A reason CC will store as an annotation's value. */
export function grantReason(text: string): string {
  const reason = text.trim();
  if (!reason) throw new UsageError('--reason is empty: say why SSH is needed (an incident or ticket number, say).');
  if (reason.length > MAX_REASON_LENGTH) throw new UsageError(`--reason is longer than the ${MAX_REASON_LENGTH} characters an annotation holds.`);
  return reason;
}

/** A moment as the grant's annotation holds it: ISO 8601 in UTC, to the second. */
export function utcText(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The annotations that record a grant ending at `expiresAt`; a reason left out removes an older one. */
export function grantAnnotations(expiresAt: Date, reason?: string): Record<string, string | null> {
  return { [EXPIRES_AT_ANNOTATION]: utcText(expiresAt), [REASON_ANNOTATION]: reason ?? null };
}

/** The annotations that remove a grant (CC removes an annotation set to null). */
export const CLEARED_GRANT: Readonly<Record<string, null>> = { [EXPIRES_AT_ANNOTATION]: null, [REASON_ANNOTATION]: null };

/** The app's time-boxed grant as its annotations hold it at `now` (ctx.now()), or undefined when it has none. */
export function sshGrantOf(app: Pick<App, 'metadata'>, now: number): SshGrant | undefined {
  const annotations = app.metadata?.annotations ?? {};
  const text = (key: string) => {
    const value = annotations[key];
    return typeof value === 'string' ? value : undefined;
  };
  const expiresAtText = text(EXPIRES_AT_ANNOTATION);
  const reason = text(REASON_ANNOTATION);
  // A reason alone is no grant: nothing of ours writes one without an expiry.
  if (expiresAtText === undefined) return undefined;
  // Only the UTC form we write: Date's own parsing would take local times and odd forms too.
  const readable = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/.test(expiresAtText) ? new Date(expiresAtText) : undefined;
  const expiresAt = readable && !Number.isNaN(readable.getTime()) ? readable : undefined;
  return { expiresAt, reason, expired: expiresAt === undefined || expiresAt.getTime() <= now };
}
