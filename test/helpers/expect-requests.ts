// Exactly the Cloud Controller and UAA requests a command made, in the spirit of GitHub CLI's
// httpmock registry and its Verify: every request must be expected, every expectation met.
//
// An expectation is "METHOD /path" or "METHOD /path?query":
//   - a path segment `:name` stands for any one segment (a GUID, say): /v3/apps/:guid/ssh_enabled;
//   - without `?`, the query is not looked at; with it, the request has exactly those
//     parameters (in any order), and a value `:name` stands for any value: ?names=demo-app&space_guids=:guid.
// Order does not matter (a command may send requests at once); how many times does.
import assert from 'node:assert/strict';
import type { Foundation, RecordedRequest } from '../foundation/server.js';

const describe = (r: RecordedRequest) => `${r.method} ${r.path}${r.query}`;

function matcher(expected: string): (r: RecordedRequest) => boolean {
  const parsed = /^([A-Z]+) ([^?\s]+)(?:\?(.*))?$/.exec(expected);
  if (!parsed?.[1] || !parsed[2]) throw new Error(`expectRequests: '${expected}' is not "METHOD /path[?query]"`);
  const [, method, path, query] = parsed;
  const segments = path.split('/');
  const params = query === undefined ? undefined : [...new URLSearchParams(query)];
  return (r) => {
    if (r.method !== method) return false;
    const actual = r.path.split('/');
    if (actual.length !== segments.length || segments.some((s, i) => (s.startsWith(':') ? !actual[i] : s !== actual[i]))) return false;
    if (!params) return true;
    const got = [...new URLSearchParams(r.query)];
    if (got.length !== params.length) return false;
    const left = [...got];
    return params.every(([key, value]) => {
      const at = left.findIndex(([k, v]) => k === key && (value.startsWith(':') ? v !== '' : v === value));
      if (at < 0) return false;
      left.splice(at, 1);
      return true;
    });
  };
}

/**
 * Pairs each request with an expectation that matches it, one each (a bipartite matching, so
 * that a `:guid` pattern does not take a request that only a literal one can match).
 */
function pair(expected: string[], requests: RecordedRequest[]): { missing: string[]; unexpected: RecordedRequest[] } {
  const tests = expected.map(matcher);
  /** For each expectation, the request it took. */
  const owner: (number | undefined)[] = expected.map(() => undefined);
  const tryRequest = (r: number, seen: Set<number>): boolean => {
    const request = requests[r];
    if (!request) return false;
    for (let e = 0; e < tests.length; e += 1) {
      if (seen.has(e) || !tests[e]?.(request)) continue;
      seen.add(e);
      const current = owner[e];
      if (current === undefined || tryRequest(current, seen)) {
        owner[e] = r;
        return true;
      }
    }
    return false;
  };
  const unexpected = requests.filter((_, r) => !tryRequest(r, new Set()));
  const missing = expected.filter((_, e) => owner[e] === undefined);
  return { missing, unexpected };
}

/** Asserts that `requests` are exactly `expected` (see the top of this file). */
export function assertRequests(requests: RecordedRequest[], expected: string[]): void {
  const { missing, unexpected } = pair(expected, requests);
  if (missing.length === 0 && unexpected.length === 0) return;
  const list = (items: string[]) => (items.length > 0 ? items.map((i) => `  ${i}`).join('\n') : '  (none)');
  assert.fail(
    [
      'The requests made are not the ones expected.',
      'Expected, not made:',
      list(missing),
      'Made, not expected:',
      list(unexpected.map(describe)),
      'All requests made, in order:',
      list(requests.map(describe)),
    ].join('\n'),
  );
}

/**
 * Runs `run` and asserts that the requests the foundation received meanwhile (the control
 * API's excepted) are exactly `expected`; returns what `run` returned. Runs against one
 * foundation must not overlap (tests of a file run one after the other).
 */
export async function expectRequests<T>(foundation: Pick<Foundation, 'requests'>, expected: string[], run: () => Promise<T>): Promise<T> {
  const from = foundation.requests.length;
  const result = await run();
  assertRequests(foundation.requests.slice(from), expected);
  return result;
}
