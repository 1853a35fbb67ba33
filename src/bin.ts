#!/usr/bin/env node
// The entry point: the only place that reads process.argv and calls process.exit. cf starts a
// plugin as `<binary> <port> ...`; anything else is a standalone run.
import { describeError } from './errors.js';
import { runArgv } from './plugin-launch.js';

async function main(): Promise<number> {
  const io = { streams: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, env: process.env };
  return runArgv(process.argv.slice(2), io);
}

main().then(
  (code) => {
    process.exitCode = code;
    // Let stdout drain, then leave even if a keep-alive socket is still open.
    process.stdout.write('', () => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`${describeError(err).message}\n`);
    process.exit(1);
  },
);
