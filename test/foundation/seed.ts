// What the foundation holds beyond its small seeded world: a history of audit events (so that
// reports have something to show, some of it past the retention), and on demand thousands of
// apps over extra orgs and spaces, with varied SSH switches, to benchmark an org of 5,000 apps.
import type { App, Space, User, World } from './state.js';

const DAY_MS = 24 * 3600 * 1000;
export const APPS_PER_SPACE = 100;
export const SPACES_PER_ORG = 50;

function seeded(world: World, name: string): User {
  return world.userByName(name) as User;
}

/**
 * Past events on the seeded apps, days to weeks old: SSH logins let in and refused, an
 * environment read, a metadata update; and some older than CC's default retention of 31 days,
 * which the foundation prunes unless its retention is longer.
 */
export function seedHistory(world: World, now = Date.now()): void {
  const developer = seeded(world, 'developer');
  const auditor = seeded(world, 'auditor');
  const app = (name: string) => world.apps.find((a) => a.name === name) as App;
  const web = (a: App) => ({ guid: a.processes[0]?.guid ?? a.guid, name: a.name });
  const at = (days: number) => now - days * DAY_MS;
  const demo = app('demo-app');
  const space = world.spaceOf(demo);
  const history: [string, { guid: string; name: string }, Space, User, Record<string, unknown>, number][] = [
    ['audit.app.ssh-authorized', web(demo), space, developer, { index: '0' }, at(2)],
    ['audit.app.ssh-unauthorized', web(demo), space, auditor, { index: '0' }, at(3)],
    ['audit.app.ssh-unauthorized', web(app('locked-app')), world.spaceOf(app('locked-app')), developer, { index: '0' }, at(4)],
    ['audit.app.environment.show', demo, space, developer, {}, at(5)],
    ['audit.app.ssh-unauthorized', web(app('no-ssh-app')), space, developer, { index: '0' }, at(8)],
    ['audit.app.ssh-authorized', web(demo), space, developer, { index: '1' }, at(9)],
    ['audit.app.update', demo, space, developer, { request: { metadata: { annotations: { owner: 'team-a' } } } }, at(15)],
    ['audit.app.ssh-authorized', web(demo), space, developer, { index: '0' }, at(20)],
    ['audit.app.ssh-authorized', web(demo), space, developer, { index: '0' }, at(40)],
    ['audit.app.environment.show', demo, space, developer, {}, at(45)],
  ];
  for (const [type, target, where, user, data, when] of history) world.audit.record(type, target, where, user, data, when);
}

/**
 * `count` apps perf-app-1... in spaces perf-space-1... (100 apps each) in orgs perf-org-1...
 * (50 spaces each), where the seeded users have their usual roles. One space in ten disallows
 * SSH, one app in four has it off, one in twenty is stopped; one in ten was logged into lately.
 */
export function seedApps(world: World, count: number, now = Date.now()): void {
  const developer = seeded(world, 'developer');
  const members: [User, 'developer' | 'auditor' | 'manager'][] = [
    [developer, 'developer'],
    [seeded(world, 'auditor'), 'auditor'],
    [seeded(world, 'space-manager'), 'manager'],
  ];
  const managers = [seeded(world, 'manager')];
  const auditors = [seeded(world, 'org-auditor')];
  let space: Space | undefined;
  for (let i = 0; i < count; i += 1) {
    const spaceIndex = Math.floor(i / APPS_PER_SPACE);
    if (i % APPS_PER_SPACE === 0) {
      const org = spaceIndex % SPACES_PER_ORG === 0 ? world.addOrg(`perf-org-${spaceIndex / SPACES_PER_ORG + 1}`, managers, auditors) : world.orgOf(space as Space);
      space = world.addSpace(org, `perf-space-${spaceIndex + 1}`, spaceIndex % 10 !== 9, members);
    }
    const stopped = i % 20 === 19;
    const app = world.addApp(space as Space, `perf-app-${i + 1}`, { sshEnabled: i % 4 !== 3, state: stopped ? 'STOPPED' : 'STARTED', instances: [stopped ? 'DOWN' : 'RUNNING'] });
    if (i % 10 === 0) world.audit.record('audit.app.ssh-authorized', app, space as Space, developer, { index: '0' }, now - ((i % 28) + 1) * DAY_MS);
  }
}
