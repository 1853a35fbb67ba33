// The shape of a server's JSON answer, checked where it arrives (cf/schemas.ts, uaa/): a missing
// field, a wrong type, or a body that is no JSON at all (an HTML error page, a cut-off answer)
// becomes one line naming the request and the field, never a TypeError deep inside nor a
// misleading "not found". Only the fields cf-ssh-tools reads are checked; others pass as they
// are, as servers add fields. Hand-written rather than a schema library: a dozen shapes, our own
// words, and nothing more to load at start-up.
import { UnexpectedAnswerError } from '../errors.js';
import type { HttpResponse } from './http.js';

/** Checks `value`, found at `path` ('' for the body itself), and returns it as a T; throws ShapeError. */
export type Shape<T> = (value: unknown, path: string) => T;

/** What is wrong and where: "resources[0].guid is missing". */
export class ShapeError extends Error {}

function kind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  // A number or true/false is shown as it is: "index is 1.5, not a whole number".
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return `a ${typeof value}`;
}

function wrong(path: string, value: unknown, expected: string): never {
  const where = path || 'the body';
  throw new ShapeError(value === undefined ? `${where} is missing` : `${where} is ${kind(value)}, not ${expected}`);
}

function primitive<T>(expected: string, test: (value: unknown) => value is T): Shape<T> {
  return (value, path) => (test(value) ? value : wrong(path, value, expected));
}

export const string = primitive('a string', (v): v is string => typeof v === 'string');
export const boolean = primitive('true or false', (v): v is boolean => typeof v === 'boolean');
export const number = primitive('a number', (v): v is number => typeof v === 'number' && Number.isFinite(v));
export const wholeNumber = primitive('a whole number', (v): v is number => Number.isSafeInteger(v));
/** Any value: what another layer takes in whatever shape it comes (VCAP_SERVICES). */
export const anything: Shape<unknown> = (value) => value;

/** Absent or null: undefined (the Cloud Controller sends null for "none"). */
export function optional<T>(shape: Shape<T>): Shape<T | undefined> {
  return (value, path) => (value === undefined || value === null ? undefined : shape(value, path));
}

export function list<T>(item: Shape<T>): Shape<T[]> {
  return (value, path) => (Array.isArray(value) ? value.map((entry, index) => item(entry, `${path}[${index}]`)) : wrong(path, value, 'a list'));
}

/** An object with these fields checked (an optional one left out when absent) and any others kept. */
export function object<T extends object>(fields: { [K in keyof T]-?: Shape<T[K]> }): Shape<T> {
  return (value, path) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return wrong(path, value, 'an object');
    const checked: Record<string, unknown> = { ...value };
    for (const [key, shape] of Object.entries<Shape<unknown>>(fields)) {
      const field = shape((value as Record<string, unknown>)[key], path ? `${path}.${key}` : key);
      if (field === undefined) delete checked[key];
      else checked[key] = field;
    }
    return checked as T;
  };
}

/** Any object, its fields unchecked. */
export const record: Shape<Record<string, unknown>> = object({});

/**
 * The body of `res` in `shape`, or an UnexpectedAnswerError that names `answer` ("The Cloud
 * Controller's answer to GET /v3/apps") and what is wrong. A body that did not parse as JSON
 * reached here as its text (see http.ts).
 */
export function readAnswer<T>(res: HttpResponse, shape: Shape<T>, answer: string): T {
  const body = res.data;
  if (typeof body === 'string') throw new UnexpectedAnswerError(answer, notJson(body, res.headers['content-type']));
  try {
    return shape(body, '');
  } catch (err) {
    if (err instanceof ShapeError) throw new UnexpectedAnswerError(answer, err.message);
    throw err;
  }
}

function notJson(body: string, contentType = ''): string {
  if (body.trim() === '') return 'the body is empty';
  if (!/json/i.test(contentType)) return `the body is not JSON (Content-Type: ${contentType.split(';')[0]?.trim() || 'none'})`;
  try {
    JSON.parse(body);
    return 'the body is a string, not an object';
  } catch (err) {
    return `the body is not valid JSON (${(err as Error).message})`;
  }
}
