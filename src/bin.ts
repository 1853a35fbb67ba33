#!/usr/bin/env node
// The entry point: the only place that reads process.argv and calls process.exit.
import { runCli } from './cli.js';
import { createContext } from './context.js';

async function main(): Promise<number> {
  const ctx = createContext({
    streams: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    env: process.env,
  });
  return runCli(process.argv.slice(2), ctx);
}

main().then(
  (code) => {
    process.exitCode = code;
    // Let stdout drain, then leave even if a keep-alive socket is still open.
    process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`Unexpected error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
