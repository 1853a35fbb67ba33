// PATCH /v3/apps/:guid and PATCH /v3/spaces/:guid as CC has them: a name and metadata (labels
// and annotations; null deletes a key), checked as CC's MetadataValidator and
// MetadataValidatorHelper check them, with their 422 wording joined as CC joins it. An app's
// update is recorded as audit.app.update, a space's as audit.space.update, the request as data.
import { authenticated, type CcRenderers, type CcSettings, notAuthorized, notFound, unprocessable } from './cc-routes.js';
import type { Request, Router } from './router.js';
import type { Metadata, User, World } from './state.js';
import type { TokenService } from './tokens.js';

const MAX_KEY = 63;
const MAX_PREFIX = 253;
const MAX_LABEL_VALUE = 63;
const MAX_ANNOTATION_VALUE = 5000;
const INVALID_CHARACTER = /[^\w\-.]/;
const ALPHANUMERIC_ENDS = /^(?=[a-zA-Z\d]).*[a-zA-Z\d]$/s;
const DOMAIN = /^(([a-z0-9]|[a-z0-9][a-z0-9-]{0,61}[a-z0-9])\.)+([a-z0-9]|[a-z0-9][a-z0-9-]{0,61}[a-z0-9])$/i;

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A label's or annotation's value as CC stores it: its string form; null deletes. */
const stringOf = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

/** What is wrong with a name (a key's part after the prefix) or a label's value, as CC's helper says it. */
function nameError(name: string, limit = MAX_KEY): string | undefined {
  if (INVALID_CHARACTER.test(name)) return `'${name}' contains invalid characters`;
  if (!ALPHANUMERIC_ENDS.test(name)) return `'${name}' starts or ends with invalid characters`;
  if (name.length > limit) return `'${name.slice(0, 8)}...' is greater than ${limit} characters`;
  return undefined;
}

function keyError(key: string): string | undefined {
  if (key === '') return 'key cannot be empty string';
  if (key.split('/').length > 2) return "key has more than one '/'";
  const [prefix, name = ''] = key.includes('/') ? key.split('/') : [undefined, key];
  if (prefix !== undefined && !DOMAIN.test(prefix)) return `prefix '${prefix}' must be in valid dns format`;
  if (prefix !== undefined && prefix.length > MAX_PREFIX) return `prefix '${prefix.slice(0, 8)}...' is greater than ${MAX_PREFIX} characters`;
  if (prefix?.toLowerCase() === 'cloudfoundry.org') return "prefix 'cloudfoundry.org' is reserved";
  if (name === '') return 'key cannot be empty string';
  return nameError(name);
}

/** CC's MetadataValidator: each problem as `full_messages` has it. */
export function metadataErrors(metadata: unknown): string[] {
  if (!isRecord(metadata)) return ['Metadata must be an object'];
  const errors: string[] = [];
  const unexpected = Object.keys(metadata).filter((key) => key !== 'labels' && key !== 'annotations');
  if (unexpected.length > 0) errors.push(`Metadata has unexpected field(s): ${unexpected.map((key) => `'${key}'`).join(' ')}`);
  const { labels, annotations } = metadata;
  if (labels != null) {
    if (!isRecord(labels)) errors.push("Metadata 'labels' is not an object");
    else
      for (const [key, value] of Object.entries(labels)) {
        const keyProblem = keyError(key);
        if (keyProblem) errors.push(`Metadata label key error: ${keyProblem}`);
        const text = value == null ? '' : stringOf(value);
        const valueProblem = text === '' ? undefined : nameError(text, MAX_LABEL_VALUE);
        if (valueProblem) errors.push(`Metadata label value error: ${valueProblem}`);
      }
  }
  if (annotations != null) {
    if (!isRecord(annotations)) errors.push("Metadata 'annotations' is not an object");
    else
      for (const [key, value] of Object.entries(annotations)) {
        // CC checks an annotation's key only when it sets a value: deleting a bad key is fine.
        const keyProblem = value == null || value === '' ? undefined : keyError(key);
        if (keyProblem) errors.push(`Metadata annotation key error: ${keyProblem}`);
        const text = value == null ? '' : stringOf(value);
        if (text.length > MAX_ANNOTATION_VALUE) errors.push(`Metadata annotation value error: '${text.slice(0, 8)}...' is greater than ${MAX_ANNOTATION_VALUE} characters`);
      }
  }
  return errors;
}

/** Applies a valid metadata update: each key set, or deleted where its value is null. */
export function applyMetadata(target: Metadata, update: unknown): void {
  if (!isRecord(update)) return;
  for (const kind of ['labels', 'annotations'] as const) {
    const changes = update[kind];
    if (!isRecord(changes)) continue;
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) delete target[kind][key];
      else target[kind][key] = stringOf(value);
    }
  }
}

/** What CC's AppUpdateMessage or SpaceUpdateMessage finds wrong with a body. */
function updateErrors(body: Record<string, unknown>, allowed: string[]): string[] {
  const errors: string[] = [];
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) errors.push(`Unknown field(s): '${unknown.join("', '")}'`);
  if ('name' in body && typeof body.name !== 'string') errors.push('Name must be a string');
  if ('metadata' in body) errors.push(...metadataErrors(body.metadata));
  return errors;
}

export function metadataRoutes(router: Router, world: World, tokens: TokenService, settings: CcSettings, render: CcRenderers): void {
  const authed = authenticated(world, tokens, settings);
  const bodyOf = (req: Request): Record<string, unknown> | undefined => {
    try {
      const body = req.json<unknown>();
      return isRecord(body) ? body : undefined;
    } catch {
      return undefined;
    }
  };
  const update = (target: { name: string; metadata: Metadata }, body: Record<string, unknown>) => {
    if (typeof body.name === 'string') target.name = body.name;
    applyMetadata(target.metadata, body.metadata);
  };

  // CC validates the app's body before it looks the app up.
  router.on(
    'PATCH',
    /^\/v3\/apps\/([^/]+)$/,
    authed((req, user: User) => {
      const body = bodyOf(req);
      if (!body) return unprocessable('Request invalid due to parse error: invalid request body');
      const errors = updateErrors(body, ['name', 'lifecycle', 'metadata']);
      if (errors.length > 0) return unprocessable(errors.join(', '));
      const app = world.apps.find((a) => a.guid === req.params[0]);
      if (!app || !world.canSeeSpace(user, world.spaceOf(app))) return notFound('App');
      const space = world.spaceOf(app);
      if (!world.isSpaceDeveloper(user, space)) return notAuthorized();
      update(app, body);
      world.audit.record('audit.app.update', app, space, user, { request: body });
      return { status: 200, body: render.app(app) };
    }),
  );

  // ...and the space's after: who may not see it gets a 404, who may not update it a 403.
  router.on(
    'PATCH',
    /^\/v3\/spaces\/([^/]+)$/,
    authed((req, user: User) => {
      const space = world.spaces.find((s) => s.guid === req.params[0]);
      if (!space || !world.canSeeSpace(user, space)) return notFound('Space');
      if (!world.canUpdateSpace(user, space)) return notAuthorized();
      const body = bodyOf(req);
      if (!body) return unprocessable('Request invalid due to parse error: invalid request body');
      const errors = updateErrors(body, ['name', 'metadata']);
      if (errors.length > 0) return unprocessable(errors.join(', '));
      update(space, body);
      world.audit.record('audit.space.update', { guid: space.guid, name: space.name, type: 'space' }, space, user, { request: body });
      return { status: 200, body: render.space(space) };
    }),
  );
}
