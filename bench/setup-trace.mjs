// @ts-check
// Preloaded (`node --import ./bench/setup-trace.mjs`) into a few cf-ssh-tools processes by
// bench/ssh.mjs to see where their setup time goes, without touching src/. Marks, in ms
// since the process started (performance.now()): this preload ran (node is up), each HTTP
// request's start and end, each TCP connect, the SSH handshake done (key exchange), the
// connection ready (authenticated), the exec request sent, its channel open, the remote
// exit status, the channel's close, and the process exit. Written as JSON to
// $CF_BENCH_TRACE at exit.
//
// To see the SSH steps it loads ssh2 itself, before the CLI does (the CLI's `import 'ssh2'`
// then gets the same, already loaded module) and wraps Client.prototype.connect and exec;
// that moves ssh2's load time from the CLI's imports to this preload, nothing else.
import dc from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const file = process.env.CF_BENCH_TRACE;
/** @type {{ at: number, what: string, [extra: string]: unknown }[]} */
const events = [];
/** @type {(what: string, extra?: Record<string, unknown>) => number} */
const mark = (what, extra = {}) => events.push({ at: performance.now(), what, ...extra });
/** @typedef {{ request: import('node:http').ClientRequest }} RequestMessage */
/** @typedef {{ socket: import('node:net').Socket }} SocketMessage */

mark('preload');
dc.subscribe('http.client.request.start', (message) => {
  const { request } = /** @type {RequestMessage} */ (message);
  mark('http-start', { request: `${request.method} ${request.path}` });
});
dc.subscribe('http.client.response.finish', (message) => {
  const { request } = /** @type {RequestMessage} */ (message);
  mark('http-done', { request: `${request.method} ${request.path}` });
});
dc.subscribe('net.client.socket', (message) => {
  const { socket } = /** @type {SocketMessage} */ (message);
  socket.once('connect', () => mark('tcp-connect', { port: socket.remotePort }));
});
process.once('exit', () => {
  mark('exit');
  if (file) writeFileSync(file, JSON.stringify(events));
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Client } = createRequire(path.join(root, 'package.json'))('ssh2');
const { connect, exec } = Client.prototype;
/** @this {import('ssh2').Client} @param {[import('ssh2').ConnectConfig]} args */
Client.prototype.connect = function traced(...args) {
  this.once('handshake', () => mark('ssh-handshake'));
  this.once('ready', () => mark('ssh-ready'));
  return connect.apply(this, args);
};
/**
 * @this {import('ssh2').Client}
 * @param {string} command
 * @param {import('ssh2').ExecOptions} options
 * @param {(err: Error | undefined, channel: import('ssh2').ClientChannel | undefined) => void} callback
 */
Client.prototype.exec = function traced(command, options, callback) {
  mark('ssh-exec');
  return exec.call(this, command, options, (/** @type {Error | undefined} */ err, /** @type {import('ssh2').ClientChannel | undefined} */ channel) => {
    mark('ssh-channel-open');
    channel?.once('exit', () => mark('ssh-remote-exit'));
    channel?.once('close', () => mark('ssh-channel-close'));
    callback(err, channel);
  });
};
