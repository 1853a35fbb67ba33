// GET /v3/roles and /v3/roles/:guid as CC has them (RolesController, RolePresenter,
// IncludeRoleUserDecorator): the world's org and space roles, with an organization_user role for
// everyone with a role in the org (as cf set-org-role and set-space-role create one), filters,
// include=user, and CC's readable_roles: the roles of the spaces and orgs the user can see.
import { createHash } from 'node:crypto';
import { authenticated, type CcSettings, CREATED, linker, metadata, notFound, paginate } from './cc-routes.js';
import { json, type Router } from './router.js';
import type { User, World } from './state.js';
import type { TokenService } from './tokens.js';

interface Role {
  guid: string;
  type: string;
  user: User;
  orgGuid?: string;
  spaceGuid?: string;
}

/** A role's GUID, the same for as long as the role exists. */
function roleGuid(type: string, userGuid: string, scopeGuid: string): string {
  const hex = createHash('sha256').update(`${type}:${userGuid}:${scopeGuid}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function allRoles(world: World): Role[] {
  const roles: Role[] = [];
  const user = (guid: string) => world.users.get(guid) as User;
  for (const org of world.orgs) {
    const spaces = world.spaces.filter((s) => s.orgGuid === org.guid);
    const members = new Set([...org.managers, ...org.auditors, ...spaces.flatMap((s) => [...s.roles.keys()])]);
    const orgRole = (type: string, guid: string) => roles.push({ guid: roleGuid(type, guid, org.guid), type, user: user(guid), orgGuid: org.guid });
    for (const guid of members) orgRole('organization_user', guid);
    for (const guid of org.managers) orgRole('organization_manager', guid);
    for (const guid of org.auditors) orgRole('organization_auditor', guid);
    for (const space of spaces) {
      for (const [guid, role] of space.roles) {
        const type = `space_${role}`;
        roles.push({ guid: roleGuid(type, guid, space.guid), type, user: user(guid), spaceGuid: space.guid });
      }
    }
  }
  return roles;
}

export function rolesRoutes(router: Router, world: World, tokens: TokenService, settings: CcSettings, baseUrl: () => string): void {
  const link = linker(baseUrl);
  const authed = authenticated(world, tokens, settings);

  const readable = (viewer: User) => (role: Role) => {
    if (viewer.admin) return true;
    const space = role.spaceGuid ? world.spaces.find((s) => s.guid === role.spaceGuid) : undefined;
    const org = world.orgs.find((o) => o.guid === (space?.orgGuid ?? role.orgGuid));
    return space ? world.canSeeSpace(viewer, space) : Boolean(org && world.canSeeOrg(viewer, org));
  };

  const render = (role: Role) => ({
    guid: role.guid,
    created_at: CREATED,
    updated_at: CREATED,
    type: role.type,
    relationships: {
      user: { data: { guid: role.user.guid } },
      space: { data: role.spaceGuid ? { guid: role.spaceGuid } : null },
      organization: { data: role.orgGuid ? { guid: role.orgGuid } : null },
    },
    links: {
      self: link(`/v3/roles/${role.guid}`),
      user: link(`/v3/users/${encodeURIComponent(role.user.guid)}`),
      ...(role.spaceGuid ? { space: link(`/v3/spaces/${role.spaceGuid}`) } : { organization: link(`/v3/organizations/${role.orgGuid}`) }),
    },
  });

  // UAA knows a person's user name; a client's user has none.
  const renderUser = (user: User) => ({
    guid: user.guid,
    created_at: CREATED,
    updated_at: CREATED,
    username: user.isClient ? null : user.name,
    presentation_name: user.isClient ? user.guid : user.name,
    origin: user.isClient ? null : 'uaa',
    metadata,
    links: { self: link(`/v3/users/${encodeURIComponent(user.guid)}`) },
  });
  const included = (include: string | null, roles: Role[]) =>
    include?.split(',').includes('user') ? { included: { users: [...new Set(roles.map((r) => r.user))].map(renderUser) } } : {};

  router.on(
    'GET',
    /^\/v3\/roles$/,
    authed((req, viewer) => {
      const query = req.url.searchParams;
      const wanted = (key: string) => (query.has(key) ? new Set((query.get(key) ?? '').split(',')) : undefined);
      const filters: [Set<string> | undefined, (role: Role) => string | undefined][] = [
        [wanted('guids'), (r) => r.guid],
        [wanted('types'), (r) => r.type],
        [wanted('user_guids'), (r) => r.user.guid],
        [wanted('space_guids'), (r) => r.spaceGuid],
        [wanted('organization_guids'), (r) => r.orgGuid],
      ];
      const roles = allRoles(world)
        .filter(readable(viewer))
        .filter((role) => filters.every(([set, of]) => !set || set.has(of(role) ?? '')));
      // CC's IncludeRoleUserDecorator names the users of the roles on this page only.
      return paginate(req, roles, render, settings, (page) => included(query.get('include'), page));
    }),
  );

  router.on(
    'GET',
    /^\/v3\/roles\/([^/]+)$/,
    authed((req, viewer) => {
      const role = allRoles(world).find((r) => r.guid === req.params[0] && readable(viewer)(r));
      return role ? json(200, { ...render(role), ...included(req.url.searchParams.get('include'), [role]) }) : notFound('Role');
    }),
  );
}
