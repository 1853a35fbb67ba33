// The app instances behind the foundation's SSH proxy, each made to look like a Diego
// container: a home with the app's droplet layout (home/vcap/app with its .profile.d and
// .profile, home/vcap/profile.d, deps, tmp), and sessions with the container's environment
// (PATH, LANG, HOME, CF_INSTANCE_*, VCAP_*, the app's variables), the home as working
// directory, `bash -c` for a command and a plain (not login) bash without one. As on
// Diego, nothing sources the profile scripts: that is the client's job (--app-env).
//
// Each instance gets a real OpenSSH sshd on loopback, started at the first connection to
// it, with a throwaway host key and a ForceCommand wrapper that sets all of the above.
// Without /usr/sbin/sshd, a built-in ssh2 server stands in (commands run without a PTY).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import ssh2, { type ParsedKey, type ServerChannel, type Session } from 'ssh2';
import { copy } from './channel-relay.js';
import { freePort, killGroup, SETPRIV } from './daemons.js';
import { ed25519KeyPair } from './ssh2-internals.js';
import type { App, Process, World } from './state.js';

export const SSHD = '/usr/sbin/sshd';
/** sftp-server on Debian, then on Red Hat-like systems. */
const SFTP_SERVER = ['/usr/lib/openssh/sftp-server', '/usr/libexec/openssh/sftp-server'].find((file) => existsSync(file));
const STARTUP_TIMEOUT_MS = 10_000;

export type BackendKind = 'openssh' | 'builtin';

/** The sshd_config lines of a throwaway sshd on loopback that takes one key and nothing else. */
export function keyOnlySshdConfig(o: { port: number; hostKey: string; pidFile: string; authorizedKeys: string; asRoot: boolean }): string[] {
  return [
    `ListenAddress 127.0.0.1:${o.port}`,
    `HostKey ${o.hostKey}`,
    `PidFile ${o.pidFile}`,
    `AuthorizedKeysFile ${o.authorizedKeys}`,
    'AuthenticationMethods publickey',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    ...(o.asRoot ? ['PermitRootLogin prohibit-password'] : []),
    'AllowTcpForwarding yes',
    'UseDNS no',
  ];
}

export interface InstanceTarget {
  app: App;
  process: Process;
  index: number;
}

/** How the proxy reaches an instance's SSH server. */
export interface BackendAddress {
  kind: BackendKind;
  port: number;
  /** The account the proxy logs in as. */
  username: string;
  /** The backend's host key (SSH wire format), which the proxy checks. */
  hostKey: Buffer;
  /** sshd's process id. */
  pid?: number;
}

/** An instance's SSH server. */
interface Backend {
  address: BackendAddress;
  stop(): Promise<void>;
}

/** A running instance: its SSH server, and the proxy's connections to it, which end with it. */
interface RunningInstance {
  backend: Promise<Backend>;
  connections: Set<ssh2.Client>;
}

/** An instance's home and the environment its sessions get. */
interface Container {
  dir: string;
  home: string;
  environment: Record<string, string>;
}

export class BackendPool {
  /** The key the proxy logs in to backends with. */
  readonly clientKey = ed25519KeyPair();
  readonly kind: BackendKind;
  private root?: string;
  private readonly instances = new Map<string, RunningInstance>();
  /** sshd daemons running, killed when the foundation's process exits without stopping them (where setpriv is missing, say). */
  private readonly daemons = new Set<ChildProcess>();
  private readonly killDaemons = () => {
    for (const daemon of this.daemons) killGroup(daemon, 'SIGKILL');
  };

  constructor(
    private readonly world: World,
    private readonly apiUrl: () => string,
    kind?: BackendKind,
  ) {
    this.kind = kind ?? (existsSync(SSHD) ? 'openssh' : 'builtin');
    if (!kind && this.kind === 'builtin') {
      console.error(`Notice: ${SSHD} is not installed; app instances get a built-in SSH server (no PTY) instead of OpenSSH.`);
    }
    process.on('exit', this.killDaemons);
  }

  /** An SSH connection to the instance, whose SSH server starts if it does not run yet. */
  async connect(target: InstanceTarget): Promise<ssh2.Client> {
    const key = instanceKey(target.process.guid, target.index);
    let instance = this.instances.get(key);
    if (!instance) {
      instance = { backend: this.start(target), connections: new Set() };
      this.instances.set(key, instance);
      const starting = instance;
      // A server that failed to start is tried again at the next connection.
      starting.backend.catch(() => this.instances.get(key) === starting && this.instances.delete(key));
    }
    const { connections } = instance;
    const client = await this.login((await instance.backend).address);
    connections.add(client);
    client.once('close', () => connections.delete(client));
    return client;
  }

  private login(address: BackendAddress): Promise<ssh2.Client> {
    return new Promise((resolve, reject) => {
      const client = new ssh2.Client();
      client.once('ready', () => {
        client.removeListener('error', reject);
        client.on('error', () => undefined); // its 'close' follows, which is what the proxy acts on
        resolve(client);
      });
      client.once('error', reject);
      client.connect({
        host: '127.0.0.1',
        port: address.port,
        username: address.username,
        privateKey: this.clientKey.private,
        hostVerifier: (key: Buffer) => key.equals(address.hostKey),
        readyTimeout: STARTUP_TIMEOUT_MS,
      });
    });
  }

  /** What runs, for GET /foundation/ssh/backends. */
  async running(): Promise<(BackendAddress & { instance: string })[]> {
    const entries = await Promise.allSettled([...this.instances].map(async ([instance, { backend }]) => ({ instance, ...(await backend).address })));
    return entries.flatMap((entry) => (entry.status === 'fulfilled' ? [entry.value] : []));
  }

  /** The instance's container is gone (it crashed, say): so are its SSH server and sessions. */
  async stopInstance(processGuid: string, index: number): Promise<void> {
    const key = instanceKey(processGuid, index);
    const instance = this.instances.get(key);
    this.instances.delete(key);
    if (instance) await endInstance(instance);
  }

  async stop(): Promise<void> {
    const instances = [...this.instances.values()];
    this.instances.clear();
    await Promise.all(instances.map(endInstance));
    process.off('exit', this.killDaemons);
    if (this.root) rmSync(this.root, { recursive: true, force: true });
  }

  private async start(target: InstanceTarget): Promise<Backend> {
    const container = await this.createContainer(target);
    return this.kind === 'openssh' ? this.startSshd(container) : startBuiltin(container, this.clientKey.parsedPublic);
  }

  private async createContainer({ app, process, index }: InstanceTarget): Promise<Container> {
    // First, as it may wait for the databases of the app's services to start.
    const services = await this.world.vcapServices(app);
    this.root ??= mkdtempSync(path.join(os.tmpdir(), 'cf-ssh-tools-instances-'));
    const dir = mkdtempSync(path.join(this.root, `${app.name}-${process.type}-${index}-`));
    const home = path.join(dir, 'home/vcap');
    const files: Record<string, string> = {
      'app/.profile.d/app-env.sh': 'export APP_PROFILE_LOADED=yes\n',
      'app/.profile': 'export APP_DOT_PROFILE=yes\n',
      'profile.d/buildpack.sh': 'export BUILDPACK_PROFILE_LOADED=yes\n',
    };
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(home, file)), { recursive: true });
      writeFileSync(path.join(home, file), content);
    }
    for (const empty of ['deps', 'tmp']) mkdirSync(path.join(home, empty));
    const environment = {
      // An app's own PATH (cf set-env) reaches its sessions, as on Diego.
      PATH: '/bin:/usr/bin',
      ...app.environment,
      LANG: 'en_US.UTF8',
      HOME: home,
      CF_INSTANCE_INDEX: String(index),
      CF_INSTANCE_GUID: randomUUID(),
      INSTANCE_INDEX: String(index),
      VCAP_APPLICATION: JSON.stringify({ ...this.world.vcapApplication(app, this.apiUrl()), process_id: process.guid, process_type: process.type }),
      VCAP_SERVICES: JSON.stringify(services),
    };
    return { dir, home, environment };
  }

  private async startSshd(container: Container): Promise<Backend> {
    const { dir } = container;
    const hostKey = ed25519KeyPair();
    const file = (name: string, content: string, mode = 0o600) => {
      writeFileSync(path.join(dir, name), content, { mode });
      return path.join(dir, name);
    };
    const hostKeyFile = file('ssh_host_ed25519_key', hostKey.private);
    const authorizedKeys = file('authorized_keys', `${this.clientKey.public}\n`);
    const session = file('session.sh', sessionScript(container.environment), 0o755);
    const asRoot = process.getuid?.() === 0;
    // sshd refuses to start as root without its privilege separation directory.
    if (asRoot) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const config = (port: number) =>
      file(
        'sshd_config',
        [
          ...keyOnlySshdConfig({ port, hostKey: hostKeyFile, pidFile: path.join(dir, 'sshd.pid'), authorizedKeys, asRoot }),
          // Diego's sshd takes any `env` request; the wrapper then sets the container's own.
          'AcceptEnv *',
          `ForceCommand ${session}`,
          // Through the ForceCommand too (SSH_ORIGINAL_COMMAND is this path), so it starts in HOME.
          ...(SFTP_SERVER ? [`Subsystem sftp ${SFTP_SERVER}`] : []),
          'PermitUserRC no',
          'PrintMotd no',
          'PrintLastLog no',
          'MaxSessions 100',
          '',
        ].join('\n'),
      );

    // sshd cannot be told to take any free port and say which; another process may take the
    // one we found before sshd binds it, so try again then.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const sshd: [string, ...string[]] = [SSHD, '-D', '-e', '-f', config(port)];
      const [command, ...args]: [string, ...string[]] = SETPRIV ? [SETPRIV, '--pdeathsig', 'TERM', '--', ...sshd] : sshd;
      const daemon = spawn(command, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      try {
        await listening(daemon);
      } catch (err) {
        killGroup(daemon, 'SIGKILL');
        if (attempt === 3) throw err;
        continue;
      }
      this.daemons.add(daemon);
      return {
        address: { kind: 'openssh', port, username: os.userInfo().username, hostKey: hostKey.parsedPublic.getPublicSSH(), pid: daemon.pid },
        stop: async () => {
          // The daemon's group holds its per-connection children too. A daemon killed from
          // outside (a test's fault) has exited already: its 'exit' will not come again.
          const gone = daemon.exitCode !== null || daemon.signalCode !== null;
          const exited = gone ? Promise.resolve() : new Promise((resolve) => daemon.once('exit', resolve));
          killGroup(daemon, 'SIGTERM');
          await exited;
          this.daemons.delete(daemon);
        },
      };
    }
  }
}

const instanceKey = (processGuid: string, index: number) => `${processGuid}/${index}`;

/** sshd's per-connection processes outlive its listener: the connections are ended first. */
async function endInstance({ backend, connections }: RunningInstance): Promise<void> {
  for (const client of connections) client.destroy();
  await backend.then(
    (b) => b.stop(),
    () => undefined,
  );
}

/** Resolves when sshd says it listens; rejects with what it said when it exits or hangs first. */
function listening(daemon: ChildProcess): Promise<void> {
  const said: string[] = [];
  return new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: daemon.stderr! });
    const fail = (why: string) => {
      clearTimeout(timer);
      lines.close();
      reject(new Error(`${SSHD} ${why}: ${said.join(' | ')}`));
    };
    const timer = setTimeout(() => fail(`did not listen within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
    daemon.once('exit', (code) => fail(`exited with ${code}`));
    lines.on('line', (line) => {
      said.push(line);
      if (!line.startsWith('Server listening on ')) return;
      clearTimeout(timer);
      daemon.removeAllListeners('exit');
      // Keep reading what it logs, or it blocks once the pipe is full.
      lines.removeAllListeners('line');
      resolve();
    });
  });
}

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** The ForceCommand wrapper: a Diego container's session environment and commands. */
function sessionScript(environment: Record<string, string>): string {
  const exports = Object.entries(environment)
    .filter(([name]) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    .map(([name, value]) => `export ${name}=${shellQuote(value)}`);
  return [
    '#!/bin/bash',
    ...exports,
    'cd "$HOME" || exit 1',
    'if [ -n "${SSH_ORIGINAL_COMMAND+set}" ]; then exec /bin/bash -c "$SSH_ORIGINAL_COMMAND"; fi',
    'exec /bin/bash',
    '',
  ].join('\n');
}

/** The stand-in without OpenSSH: the same environment and commands, without a PTY. */
async function startBuiltin(container: Container, clientKey: ParsedKey): Promise<Backend> {
  const hostKey = ed25519KeyPair();
  const connections = new Set<ssh2.Connection>();
  const server = new ssh2.Server({ hostKeys: [hostKey.private] }, (connection) => {
    connections.add(connection);
    connection.on('close', () => connections.delete(connection));
    connection.on('error', () => undefined);
    connection.on('authentication', (ctx) => {
      const isProxyKey =
        ctx.method === 'publickey' &&
        ctx.key.data.equals(clientKey.getPublicSSH()) &&
        (!ctx.signature || clientKey.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) === true);
      if (isProxyKey) ctx.accept();
      else ctx.reject(['publickey']);
    });
    connection.on('ready', () => {
      connection.on('session', (accept) => serveSession(accept(), container));
      connection.on('tcpip', (accept, reject, { destIP, destPort }) => {
        const socket = net.connect(destPort, destIP);
        socket.once('error', () => reject());
        socket.once('connect', () => {
          const channel = accept();
          socket.pipe(channel).pipe(socket);
        });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    address: { kind: 'builtin', port: (server.address() as net.AddressInfo).port, username: 'vcap', hostKey: hostKey.parsedPublic.getPublicSSH() },
    stop: async () => {
      for (const connection of connections) connection.end();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function serveSession(session: Session, container: Container): void {
  const requested: Record<string, string> = {};
  session.on('env', (accept, _reject, { key, val }) => {
    requested[key] = val;
    accept?.();
  });
  // Accepted, but commands run without a terminal.
  session.on('pty', (accept) => accept?.());
  const run = (channel: ServerChannel, args: string[]) => {
    const child = spawn('/bin/bash', args, { cwd: container.home, env: { ...requested, ...container.environment } });
    channel.pipe(child.stdin);
    child.stdin.on('error', () => undefined);
    session.on('signal', (accept, reject, { name }) => {
      try {
        child.kill(`SIG${name}` as NodeJS.Signals);
        accept?.();
      } catch {
        reject?.();
      }
    });
    channel.on('close', () => child.kill('SIGHUP'));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    void Promise.all([exited, copy(child.stdout, channel), copy(child.stderr, channel.stderr)]).then(([[code, signal]]) => {
      if (signal) channel.exit(signal.replace(/^SIG/, ''), false, '');
      else channel.exit(code ?? 1);
      channel.end();
    });
  };
  session.on('exec', (accept, _reject, { command }) => run(accept(), ['-c', command]));
  session.on('shell', (accept) => run(accept(), []));
  session.on('subsystem', (accept, reject, { name }) => {
    if (name === 'sftp' && SFTP_SERVER) run(accept(), ['-c', SFTP_SERVER]);
    else reject();
  });
}
