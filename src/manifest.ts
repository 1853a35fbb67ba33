// plugin-manifest.yml: the one description of the commands, read once at start-up.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export interface OptionSpec {
  /** As cf writes it: "--app-instance-index, -i", "-L", "--process". */
  flag: string;
  /** The argument's name when the flag takes one. */
  value?: string;
  repeatable?: boolean;
  description: string;
}

export interface CommandSpec {
  name: string;
  /** The name inside cf; absent for standalone-only commands. */
  plugin_name?: string;
  description: string;
  usage: string;
  arguments?: string[];
  options?: OptionSpec[];
  environment?: Record<string, string>;
  see_also?: string[];
}

export interface Manifest {
  name: string;
  version: string;
  commands: CommandSpec[];
}

const MANIFEST_FILE = 'plugin-manifest.yml';

function findManifest(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth += 1) {
    const candidate = path.join(dir, MANIFEST_FILE);
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  throw new Error(`${MANIFEST_FILE} is missing from the installation`);
}

let cached: Manifest | undefined;

export function manifest(): Manifest {
  cached ??= parse(readFileSync(findManifest(), 'utf8')) as Manifest;
  return cached;
}
