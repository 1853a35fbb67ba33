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
const events = [];
const mark = (what, extra = {}) => events.push({ at: performance.now(), what, ...extra });

mark('preload');
dc.subscribe('http.client.request.start', ({ request }) => mark('http-start', { request: `${request.method} ${request.path}` }));
dc.subscribe('http.client.response.finish', ({ request }) => mark('http-done', { request: `${request.method} ${request.path}` }));
dc.subscribe('net.client.socket', ({ socket }) => socket.once('connect', () => mark('tcp-connect', { port: socket.remotePort })));
process.once('exit', () => {
  mark('exit');
  if (file) writeFileSync(file, JSON.stringify(events));
});

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { Client } = createRequire(path.join(root, 'package.json'))('ssh2');
const { connect, exec } = Client.prototype;
Client.prototype.connect = function traced(...args) {
  this.once('handshake', () => mark('ssh-handshake'));
  this.once('ready', () => mark('ssh-ready'));
  return connect.apply(this, args);
};
Client.prototype.exec = function traced(command, options, callback) {
  mark('ssh-exec');
  return exec.call(this, command, options, (err, channel) => {
    mark('ssh-channel-open');
    channel?.once('exit', () => mark('ssh-remote-exit'));
    channel?.once('close', () => mark('ssh-channel-close'));
    callback(err, channel);
  });
};
