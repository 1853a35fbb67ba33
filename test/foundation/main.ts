// `npm run foundation [-- --port N] [--https] [--token-ttl SECONDS] [--ssh-port N | --no-ssh]`:
// runs the test Cloud Foundry in the foreground and prints `api=URL` once it is ready (and
// `ssh=HOST:PORT`, where its SSH proxy listens, on stderr).
import { parseArgs } from 'node:util';
import { SEED_CLIENT, SEED_USERS } from './state.js';
import { startFoundation } from './server.js';

const USAGE = 'usage: npm run foundation -- [--port N (0 = any free port)] [--https] [--token-ttl SECONDS] [--ssh-port N (default 0) | --no-ssh]';

function portOption(name: string, value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--${name} takes 0 to 65535, not '${value}'`);
  return port;
}

function parse(): { port: number; https: boolean; ttl?: number; ssh: boolean; sshPort: number } {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9022' },
      https: { type: 'boolean', default: false },
      'token-ttl': { type: 'string' },
      'ssh-port': { type: 'string', default: '0' },
      'no-ssh': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const port = portOption('port', values.port);
  const sshPort = portOption('ssh-port', values['ssh-port']);
  const ttl = values['token-ttl'] === undefined ? undefined : Number(values['token-ttl']);
  if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) throw new Error(`--token-ttl takes a number of seconds, not '${values['token-ttl']}'`);
  return { port, https: values.https ?? false, ttl, ssh: !values['no-ssh'], sshPort };
}

async function main(): Promise<void> {
  let options;
  try {
    options = parse();
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(1);
  }
  const foundation = await startFoundation({
    port: options.port,
    https: options.https,
    accessTokenTtl: options.ttl,
    ssh: options.ssh,
    sshPort: options.sshPort,
  });
  const users = Object.entries(SEED_USERS).map(([user, password]) => `${user}/${password}`).join(', ');
  console.error(`Test Cloud Foundry: users ${users}; client ${SEED_CLIENT.id}/${SEED_CLIENT.secret}; org demo-org.`);
  if (foundation.ssh) console.error(`ssh=${foundation.ssh.proxy.address}`);
  console.log(`api=${foundation.url}`);
  const stop = () => {
    void foundation.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`The foundation could not start: ${(err as Error).message}`);
  process.exit(1);
});
