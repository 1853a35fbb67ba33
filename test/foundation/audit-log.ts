// The foundation's audit events, as CC keeps them in its events table (app_event_repository.rb):
// who did what to which app, in which space and org, and when. Events older than the retention
// (CC's sample configuration: 31 days) are pruned, as CC's clean-up job does.
import { randomUUID } from 'node:crypto';
import type { Space, User } from './state.js';

export interface AuditEvent {
  guid: string;
  type: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  actor: { guid: string; type: 'user'; name: string | null };
  /** CC's actee: for SSH events the process (its name is the app's), otherwise the app or space. */
  target: { guid: string; type: 'app' | 'space'; name: string };
  data: Record<string, unknown>;
  spaceGuid: string;
  orgGuid: string;
}

const DAY_MS = 24 * 3600 * 1000;

/** CC names the actor by the token's e-mail address; a client's token has none. */
export const actorOf = (user: User): AuditEvent['actor'] => ({ guid: user.guid, type: 'user', name: user.isClient ? null : `${user.name}@example.com` });

export class AuditLog {
  private events: AuditEvent[] = [];
  private retention = 31;

  get retentionDays(): number {
    return this.retention;
  }

  set retentionDays(days: number) {
    this.retention = days;
    this.prune();
  }

  /** An event about an app (or one of its processes, or `space` itself) in `space`, now unless `createdAt` says when. */
  record(
    type: string,
    target: { guid: string; name: string; type?: 'app' | 'space' },
    space: Space,
    user: User,
    data: Record<string, unknown> = {},
    createdAt = Date.now(),
  ): AuditEvent {
    const event: AuditEvent = {
      guid: randomUUID(),
      type,
      createdAt,
      actor: actorOf(user),
      target: { guid: target.guid, type: target.type ?? 'app', name: target.name },
      data,
      spaceGuid: space.guid,
      orgGuid: space.orgGuid,
    };
    // Kept in time order: seeded history may be recorded after newer events.
    let at = this.events.length;
    while (at > 0 && (this.events[at - 1] as AuditEvent).createdAt > createdAt) at -= 1;
    this.events.splice(at, 0, event);
    this.prune();
    return event;
  }

  /** Every event within the retention, oldest first. */
  all(): readonly AuditEvent[] {
    this.prune();
    return this.events;
  }

  private prune(): void {
    const cutoff = Date.now() - this.retention * DAY_MS;
    const kept = this.events.findIndex((e) => e.createdAt >= cutoff);
    if (kept !== 0) this.events = kept === -1 ? [] : this.events.slice(kept);
  }
}
