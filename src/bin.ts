#!/usr/bin/env node
// The entry point: the only place that reads process.argv and calls process.exit. cf starts a
// plugin as `<binary> <port> ...`; anything else is a standalone run.
import { runCli } from './cli.js';
import { createContext } from './context.js';
import { describeError } from './errors.js';
import { pluginLaunch, runPlugin } from './plugin-launch.js';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const io = { streams: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, env: process.env };
  const launch = pluginLaunch(argv);
  return launch ? runPlugin(launch, io) : runCli(argv, createContext(io));
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
