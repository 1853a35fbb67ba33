// @ts-check
// Preloaded (`node --import ./bench/imports-probe.mjs`) into one cf-ssh-tools run by
// bench/ssh.mjs: lists, in the order first asked for, the packages our modules (build/src)
// import and our own modules as they load, into $CF_BENCH_IMPORTS at exit, so the bench can
// time loading exactly what the CLI loads. Uses a module resolve hook (node:module register).
import { writeFileSync } from 'node:fs';
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
/** @type {{ packages: string[], own: string[] }} */
const seen = { packages: [], own: [] };
port1.on('message', (/** @type {{ kind: 'packages' | 'own', name: string }} */ { kind, name }) => {
  if (!seen[kind].includes(name)) seen[kind].push(name);
});
port1.unref();
register('./imports-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] });
process.once('exit', () => {
  if (process.env.CF_BENCH_IMPORTS) writeFileSync(process.env.CF_BENCH_IMPORTS, JSON.stringify(seen));
});
