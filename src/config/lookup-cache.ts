// What the last runs learnt that changes almost never, so that the next run can start with it:
// per API, the SSH proxy's address, host key fingerprint and OAuth client (from the API root);
// per app, its GUID and its processes' GUIDs (a web process's changes only when a rolling
// deployment replaces it). Only hints: every run confirms them before they matter (the root
// before the code is sent, the GUIDs by look-ups that run alongside). A file that cannot be
// read or written is as good as an empty one.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { list, object, optional, type Shape, string, wholeNumber } from '../net/shape.js';
import { writeFileAtomic } from './atomic.js';

/** The SSH proxy as an API root named it. */
export interface EndpointHint {
  api: string;
  host: string;
  port: number;
  fingerprint: string;
  oauthClient?: string;
  savedAt: number;
}

/** An app's and one of its processes' GUIDs. */
export interface ProcessHint {
  api: string;
  spaceGuid: string;
  appName: string;
  processType: string;
  appGuid: string;
  processGuid: string;
  savedAt: number;
}

interface CacheFile {
  version: number;
  endpoints: EndpointHint[];
  processes: ProcessHint[];
}

const cacheFile: Shape<CacheFile> = object<CacheFile>({
  version: wholeNumber,
  endpoints: list(object<EndpointHint>({ api: string, host: string, port: wholeNumber, fingerprint: string, oauthClient: optional(string), savedAt: wholeNumber })),
  processes: list(object<ProcessHint>({ api: string, spaceGuid: string, appName: string, processType: string, appGuid: string, processGuid: string, savedAt: wholeNumber })),
});

/** How long an endpoint is taken on trust until this run's root confirms it: a root changes on a redeploy of the foundation. */
export const ENDPOINT_HINT_MS = 60 * 60 * 1000;
/** Apps remembered, the most recently used kept. */
const MAX_PROCESSES = 200;

export class LookupCache {
  readonly file: string;
  /** The file as read once per run: the endpoint and the process are asked for at once. */
  private contents?: Promise<CacheFile>;

  constructor(stateDir: string) {
    this.file = path.join(stateDir, 'lookups.json');
  }

  read(): Promise<CacheFile> {
    this.contents ??= this.readFile();
    return this.contents;
  }

  private async readFile(): Promise<CacheFile> {
    try {
      const parsed = cacheFile(JSON.parse(await readFile(this.file, 'utf8')), 'lookups.json');
      if (parsed.version === 1) return parsed;
    } catch {
      // missing, unreadable or not ours: nothing remembered
    }
    return { version: 1, endpoints: [], processes: [] };
  }

  /** The SSH proxy remembered for `api`, if recent. */
  async endpoint(api: string, now: number): Promise<{ host: string; port: number; fingerprint: string; oauthClient?: string } | undefined> {
    const hint = (await this.read()).endpoints.find((e) => e.api === api && now - e.savedAt < ENDPOINT_HINT_MS);
    return hint && { host: hint.host, port: hint.port, fingerprint: hint.fingerprint, ...(hint.oauthClient && { oauthClient: hint.oauthClient }) };
  }

  async process(want: Omit<ProcessHint, 'appGuid' | 'processGuid' | 'savedAt'>): Promise<ProcessHint | undefined> {
    return (await this.read()).processes.find((p) => sameProcess(p, want));
  }

  /** Remembers what this run confirmed. Best effort: a cache that cannot be written is no error. */
  async remember(endpoint: EndpointHint | undefined, process: ProcessHint | undefined): Promise<void> {
    // Read afresh: another run may have written since, and what it learnt is kept too.
    this.contents = undefined;
    const cache = await this.read();
    if (endpoint) cache.endpoints = [endpoint, ...cache.endpoints.filter((e) => e.api !== endpoint.api)];
    if (process) cache.processes = [process, ...cache.processes.filter((p) => !sameProcess(p, process))].slice(0, MAX_PROCESSES);
    await writeFileAtomic(this.file, `${JSON.stringify(cache)}\n`).catch(() => undefined);
  }
}

function sameProcess(a: Omit<ProcessHint, 'appGuid' | 'processGuid' | 'savedAt'>, b: Omit<ProcessHint, 'appGuid' | 'processGuid' | 'savedAt'>): boolean {
  return a.api === b.api && a.spaceGuid === b.spaceGuid && a.appName === b.appName && a.processType === b.processType;
}
