#!/usr/bin/env node
// The entry point: the only place that reads process.argv and ends the process. cf starts a
// plugin as `<port> ...`; anything else is a standalone run. Stop signals and stdout's errors
// are heard here for the whole process, and every running connection is stopped through them.
// Help and the version are answered first; what a command needs is loaded only for a command.
import { isSea } from 'node:sea';
import { answerWithoutCommand } from './cli.js';
import { describeError, signalExitCode } from './errors.js';
import { STANDALONE_NAME } from './io/help.js';
import { dieBy, ProcessStops } from './io/stops.js';

const stops = new ProcessStops();
stops.install();

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const answer = answerWithoutCommand(argv, STANDALONE_NAME);
  if (answer !== undefined) {
    process.stdout.write(`${answer}\n`);
    return 0;
  }
  // The packaged executable is all of us; unpackaged, node runs this script.
  const self = isSea() ? [process.execPath] : [process.execPath, process.argv[1] ?? ''];
  const io = { streams: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }, env: process.env, onStop: stops.subscribe, self };
  const { runArgv } = await import('./plugin-launch.js');
  return runArgv(argv, io);
}

function end(code: number): void {
  // Stopped by a signal and cleaned up: die by it, so a shell loop stops as it would for cf or ssh.
  if (stops.signal && code === signalExitCode(stops.signal)) dieBy(stops.signal);
  // Our reader went away (`| head`): stop quietly, as ssh and cf do.
  if (stops.output?.kind === 'output-closed') process.exit(141);
  process.exitCode = code;
  // Let stdout drain, then leave even if a keep-alive socket is still open.
  if (stops.output) process.exit(code);
  process.stdout.write('', () => process.exit(code));
}

main().then(end, (err: unknown) => {
  process.stderr.write(`${describeError(err).message}\n`);
  end(1);
});
