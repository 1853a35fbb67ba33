// A run of the service key ledger in a process of its own, for tests that kill it.
// Usage: node ledger-holder.js <state dir> hold|return
//   hold: records two keys (one created, one whose create never answered), prints "ready",
//         then lives until killed or its stdin closes;
//   return: the same, then returns without closing the run: the process ends by itself.
import { KeyLedger } from '../../src/config/key-ledger.js';

const [stateDir, mode] = process.argv.slice(2);
if (!stateDir || (mode !== 'hold' && mode !== 'return')) throw new Error('usage: ledger-holder <state dir> hold|return');

const run = await new KeyLedger(stateDir).openRun();
const key = { api: 'https://api.example.com', serviceInstanceGuid: 'instance-guid', serviceName: 'db' };
await run.record({ ...key, keyName: 'held-created' });
await run.created('held-created', 'key-guid');
await run.record({ ...key, keyName: 'held-uncreated' });
process.stdout.write('ready\n');
if (mode === 'hold') process.stdin.resume().once('end', () => process.exit(0));
