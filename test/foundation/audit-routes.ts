// The test Cloud Controller's /v3/audit_events (CC's EventsController, EventListFetcher and
// EventPresenter): its filters, timestamp operators with CC's second-wide bounds, ordering,
// pagination, and who sees which events (permissions.rb readable_event_dataset: admins all;
// others the events of spaces where they are developers or auditors, and of orgs they audit).
import type { AuditEvent } from './audit-log.js';
import { authenticated, type CcSettings, linker, notFound, paginate } from './cc-routes.js';
import { ccError, type Reply, type Request, type Router } from './router.js';
import type { User, World } from './state.js';
import type { TokenService } from './tokens.js';

const FILTERS = ['types', 'target_guids', 'space_guids', 'organization_guids'] as const;
const TIMESTAMPS = ['created_ats', 'updated_ats'] as const;
const VALID_PARAMETERS = ['page', 'per_page', 'order_by', ...TIMESTAMPS, ...FILTERS];
const ORDERS = ['created_at', 'updated_at'];
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
const SECOND_MS = 1000;

/** CC's timestamps: whole seconds, in UTC. */
export const ccTimestamp = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const badQuery = (errors: string[]): Reply => ccError(400, 10005, 'CF-BadQueryParameter', `The query parameter is invalid: ${errors.join(', ')}`);

/** A key as CC's from_params reads it: `created_ats[gt]` is `created_ats` with operator `gt`. */
function parameter(key: string): { name: string; operator?: string } {
  const match = /^([a-z_]+)\[([a-z]+)\]$/.exec(key);
  return match ? { name: match[1] as string, operator: match[2] } : { name: key };
}

/** The predicate of one timestamp condition, with CC's bounds: each given time spans its whole second. */
function timeCondition(operator: string | undefined, value: string): ((ms: number) => boolean) | undefined {
  const stamps = value.split(',');
  if (!stamps.every((s) => TIMESTAMP.test(s) && !Number.isNaN(Date.parse(s)))) return undefined;
  const [first] = stamps.map(Date.parse) as [number];
  switch (operator) {
    case undefined:
      return (ms) => stamps.some((s) => ms >= Date.parse(s) && ms < Date.parse(s) + SECOND_MS);
    case 'lt':
      return (ms) => ms < first;
    case 'lte':
      return (ms) => ms < first + SECOND_MS;
    case 'gt':
      return (ms) => ms >= first + SECOND_MS;
    case 'gte':
      return (ms) => ms >= first;
    default:
      return undefined;
  }
}

/** What CC's EventsListMessage finds wrong with a query, or the filter it describes. */
function eventFilter(req: Request): { errors: string[]; keep: (event: AuditEvent) => boolean; descending: boolean } {
  const errors: string[] = [];
  const conditions: ((event: AuditEvent) => boolean)[] = [];
  const query = req.url.searchParams;
  const unknown = [...new Set([...query.keys()].filter((key) => !VALID_PARAMETERS.includes(parameter(key).name)))];
  if (unknown.length > 0) errors.push(`Unknown query parameter(s): '${unknown.join("', '")}'. Valid parameters are: '${VALID_PARAMETERS.join("', '")}'`);
  for (const [key, value] of query) {
    const { name, operator } = parameter(key);
    if ((TIMESTAMPS as readonly string[]).includes(name)) {
      const condition = timeCondition(operator, value);
      if (!condition)
        errors.push(`${name === 'created_ats' ? 'Created' : 'Updated'} ats has an invalid timestamp format. Timestamps should be formatted as 'YYYY-MM-DDThh:mm:ssZ'`);
      // An event is never updated: its updated_at is its created_at.
      else conditions.push((event) => condition(event.createdAt));
    } else if ((FILTERS as readonly string[]).includes(name)) {
      const wanted = new Set(value.split(','));
      const field: Record<(typeof FILTERS)[number], (event: AuditEvent) => string> = {
        types: (event) => event.type,
        target_guids: (event) => event.target.guid,
        space_guids: (event) => event.spaceGuid,
        organization_guids: (event) => event.orgGuid,
      };
      const of = field[name as (typeof FILTERS)[number]];
      // target_guids[not]=...: CC's exclusion operator.
      conditions.push(name === 'target_guids' && operator === 'not' ? (event) => !wanted.has(of(event)) : (event) => wanted.has(of(event)));
    }
  }
  const perPage = query.get('per_page');
  if (perPage !== null && !/^\d+$/.test(perPage)) errors.push('Per page must be a positive integer');
  else if (perPage !== null && (Number(perPage) < 1 || Number(perPage) > 5000)) errors.push('Per page must be between 1 and 5000');
  const page = query.get('page');
  if (page !== null && !(/^\d+$/.test(page) && Number(page) >= 1)) errors.push('Page must be a positive integer');
  const orderBy = query.get('order_by') ?? 'created_at';
  if (!ORDERS.includes(orderBy.replace(/^[+-]/, ''))) errors.push(`Order by can only be: '${ORDERS.join("', '")}'`);
  return { errors, keep: (event) => conditions.every((c) => c(event)), descending: orderBy.startsWith('-') };
}

export function auditRoutes(router: Router, world: World, tokens: TokenService, settings: CcSettings, baseUrl: () => string): void {
  const link = linker(baseUrl);
  const authed = authenticated(world, tokens, settings);

  const render = (event: AuditEvent) => ({
    guid: event.guid,
    created_at: ccTimestamp(event.createdAt),
    updated_at: ccTimestamp(event.createdAt),
    type: event.type,
    actor: event.actor,
    target: event.target,
    data: event.data,
    space: { guid: event.spaceGuid },
    organization: { guid: event.orgGuid },
    links: { self: link(`/v3/audit_events/${event.guid}`) },
  });

  const readable = (user: User): ((event: AuditEvent) => boolean) => {
    if (user.admin) return () => true;
    const spaces = new Set(world.spaces.filter((s) => ['developer', 'auditor'].includes(s.roles.get(user.guid) ?? '')).map((s) => s.guid));
    const orgs = new Set(world.orgs.filter((o) => o.auditors.has(user.guid)).map((o) => o.guid));
    return (event) => spaces.has(event.spaceGuid) || orgs.has(event.orgGuid);
  };

  router.on(
    'GET',
    /^\/v3\/audit_events$/,
    authed((req, user) => {
      const { errors, keep, descending } = eventFilter(req);
      if (errors.length > 0) return badQuery(errors);
      const visible = readable(user);
      const events = world.audit.all().filter((e) => visible(e) && keep(e));
      return paginate(req, descending ? [...events].reverse() : events, render, settings);
    }),
  );

  router.on(
    'GET',
    /^\/v3\/audit_events\/([^/]+)$/,
    authed((req, user) => {
      const visible = readable(user);
      const event = world.audit.all().find((e) => e.guid === req.params[0] && visible(e));
      return event ? { status: 200, body: render(event) } : notFound('Event');
    }),
  );
}
