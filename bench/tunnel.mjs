// @ts-check
// How long a `tunnel` is out after its SSH connection drops (run after `npm run build`):
//   node bench/tunnel.mjs [--runs N]
// Each run drops every connection at the foundation's SSH proxy (POST /foundation/ssh/drop),
// waits until the tunnel says `lost:`, then opens one local connection, which waits for the
// reconnect, and times drop → its echo. The first retry waits 1 s ± 25 % by design; the
// time to set up a fresh connection alone is the cold start (tunnel started → first echo).
// Everything runs on 127.0.0.1: the test foundation, its SSH proxy and sshd backends.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BIN, control, startFoundation } from './lib/foundation.mjs';
import { cleanup, freePort, stopChild, track } from './lib/processes.mjs';
import { fmtSummary, summary } from './lib/stats.mjs';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);

/** @param {string} home */
const env = (home) => ({ PATH: process.env.PATH, HOME: home, CF_HOME: home, CF_SSH_TOOLS_NO_KEYCHAIN: 'true' });

/**
 * One echo through `port`, resolved with its time in ms.
 * @param {number} port
 * @returns {Promise<number>}
 */
function echoTime(port) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end('ping'));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.once('close', () => (answer === 'ping' ? resolve(performance.now() - started) : reject(new Error(`echo gave '${answer}'`))));
    socket.once('error', reject);
  });
}

/**
 * Resolves once `pattern` appears in what `child` printed after `from` characters.
 * @param {{ text: string }} output
 * @param {import('node:child_process').ChildProcess} child
 * @param {RegExp} pattern
 * @param {number} from
 */
function printed(output, child, pattern, from) {
  return new Promise((resolve, reject) => {
    const exited = () => reject(new Error(`the tunnel exited: ${output.text}`));
    const check = () => {
      if (!pattern.test(output.text.slice(from))) return;
      child.stderr?.off('data', check);
      child.off('exit', exited);
      resolve(undefined);
    };
    child.stderr?.on('data', check);
    child.once('exit', exited);
    check();
  });
}

const echo = net.createServer((socket) => socket.pipe(socket));
await new Promise((resolve) => echo.listen(0, '127.0.0.1', () => resolve(undefined)));
const echoPort = /** @type {net.AddressInfo} */ (echo.address()).port;
const foundation = await startFoundation();
const home = mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-bench-'));
try {
  const login = spawn(process.execPath, [BIN, 'login', '-a', foundation.api, '-u', 'developer', '-p', 'developer-pass', '-o', 'demo-org', '-s', 'demo-space'], {
    env: env(home),
    stdio: 'ignore',
  });
  if ((await new Promise((resolve) => login.once('exit', resolve))) !== 0) throw new Error('login failed');

  const local = await freePort();
  const started = performance.now();
  const tunnel = track(spawn(process.execPath, [BIN, 'tunnel', 'demo-app', '-L', `${local}:127.0.0.1:${echoPort}`], { env: env(home), stdio: ['ignore', 'ignore', 'pipe'] }));
  const output = { text: '' };
  tunnel.stderr.on('data', (d) => (output.text += d));
  await printed(output, tunnel, /Press Ctrl-C/, 0);
  await echoTime(local);
  const coldStart = performance.now() - started;

  /** @type {number[]} */
  const outages = [];
  for (let run = 0; run < runs; run++) {
    const mark = output.text.length;
    const dropped = performance.now();
    await control(foundation.api, 'POST', '/foundation/ssh/drop');
    await printed(output, tunnel, /^lost: /m, mark);
    await echoTime(local);
    outages.push(performance.now() - dropped);
    await printed(output, tunnel, /^reconnected after 1 try$/m, mark);
    process.stderr.write(`run ${run + 1}/${runs}: ${outages.at(-1)?.toFixed(0)} ms\n`);
  }
  await stopChild(tunnel, 'SIGINT');
  console.log(`cold start (tunnel started → first echo): ${coldStart.toFixed(0)} ms`);
  console.log(`outage (drop → echo of a connection made while down), ${runs} runs: median (min–max) ${fmtSummary(summary(outages))} ms`);
  console.log('the first retry waits 750–1250 ms by design (1 s ± 25 % jitter); the rest is the new connection');
} finally {
  echo.close();
  await cleanup();
  rmSync(home, { recursive: true, force: true });
}
