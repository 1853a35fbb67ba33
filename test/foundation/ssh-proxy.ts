// The foundation's Diego-like SSH proxy. Users log in as cf:<process-guid>/<index> with a
// one-time code for password; the proxy redeems the code with the foundation's UAA over
// HTTP, checks what CC's /internal/apps/:guid/ssh_access/:index and Diego's BBS would
// (CC recording each check as an audit event), then relays everything, both ways, to that instance's backend (see backends.ts). Every
// refusal is an authentication failure to the client, as on Diego; the log says why.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import ssh2, { type ClientCallback, type ClientChannel, type Connection, type PseudoTtyInfo, type ServerChannel, type Session } from 'ssh2';
import type { BackendPool } from './backends.js';
import { copy, relayBothWays } from './channel-relay.js';
import { askChannelRequest, ed25519KeyPair, observeGlobalRequests, rejectChannelOpen } from './ssh2-internals.js';
import type { User, World } from './state.js';
import type { TokenService } from './tokens.js';

/** How root links.app_ssh publishes the host key; `wrong` is a well-formed fingerprint of another key. */
export const FINGERPRINT_FORMATS = ['sha256-base64', 'sha256-hex', 'sha1', 'md5', 'wrong'] as const;
export type FingerprintFormat = (typeof FINGERPRINT_FORMATS)[number];

export interface SshLogEntry {
  /**
   * `rejected`: an authentication refused, detail says why; `accepted`: detail names the user;
   * `global-request`: detail is its name; `keepalive`: the client's answer to our keepalive.
   */
  event: 'rejected' | 'accepted' | 'global-request' | 'keepalive';
  username: string;
  detail: string;
}

export interface SshProxyOptions {
  world: World;
  /** CC's view of tokens: the proxy hands CC the token it got for the code. */
  tokens: TokenService;
  backends: BackendPool;
  /** The foundation's UAA, e.g. http://127.0.0.1:9022/uaa. */
  uaaUrl: () => string;
  /** The certificate of an HTTPS foundation. */
  ca?: () => string | undefined;
  /** On 127.0.0.1; default: any free port. */
  port?: number;
}

/** Diego's user name pattern: cf:<process-guid>/<index>. */
const USERNAME = /^cf:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/(\d+)$/;
/** The proxy's own UAA client (uaa-routes.ts knows it). */
const PROXY_CLIENT = { id: 'ssh-proxy', secret: 'ssh-proxy-secret' };
/** What Diego's container sshd asks on PTY sessions, with want-reply. */
export const KEEPALIVE_REQUEST = 'keepalive@cloudfoundry.org';
const SSH_OPEN_CONNECT_FAILED = 2;

/** What Diego's proxy offers, and nothing weaker. */
const ALGORITHMS = {
  kex: ['curve25519-sha256@libssh.org', 'curve25519-sha256'],
  cipher: ['aes128-gcm@openssh.com', 'aes256-ctr', 'aes192-ctr', 'aes128-ctr'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256'],
  serverHostKey: ['ssh-ed25519'],
  compress: ['none'],
} satisfies ssh2.Algorithms;

/** What a backend session ended with: an exit status, or a signal (then `code` is null). */
interface ExitInfo {
  code: number | null;
  signal?: string;
  coreDumped?: boolean;
  message?: string;
}

/** Why the proxy refused someone: logged, and an authentication failure to the client. */
class Refusal extends Error {}

export class SshProxy {
  /** Seconds between keepalive requests on PTY sessions (Diego: 15). */
  keepaliveSeconds = 15;
  readonly log: SshLogEntry[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly fingerprints: Record<FingerprintFormat, string>;
  private readonly server: ssh2.Server;
  /** While down: the port to listen on again. */
  private downPort?: number;

  private constructor(
    private readonly options: SshProxyOptions,
    private readonly listener: net.Server,
  ) {
    const hostKey = ed25519KeyPair();
    this.fingerprints = fingerprintsOf(hostKey.parsedPublic.getPublicSSH(), ed25519KeyPair().parsedPublic.getPublicSSH());
    this.server = new ssh2.Server({ hostKeys: [hostKey.private], ident: 'diego-ssh-proxy', algorithms: ALGORITHMS }, (connection) => this.accept(connection));
    listener.on('connection', (socket) => {
      socket.setNoDelay(true); // as Diego's proxy, written in Go, whose sockets have it by default
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      this.server.injectSocket(socket);
    });
  }

  static async start(options: SshProxyOptions): Promise<SshProxy> {
    const listener = net.createServer();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return new SshProxy(options, listener);
  }

  get port(): number {
    return this.downPort ?? (this.listener.address() as net.AddressInfo).port;
  }

  /** What root links.app_ssh.href publishes. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  fingerprint(format: FingerprintFormat): string {
    return this.fingerprints[format];
  }

  /** Connection lost: every client connection ends at once, without a goodbye. */
  drop(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  /** A network that silently stops carrying packets: nothing the clients send is read or answered. */
  freeze(): void {
    for (const socket of this.sockets) socket.pause();
  }

  /** The proxy gone for a while (a restart, a network outage): connections dropped, new ones refused until `up`. */
  async down(): Promise<void> {
    if (this.downPort !== undefined) return;
    const port = this.port;
    this.drop();
    await new Promise((resolve) => this.listener.close(resolve));
    this.downPort = port;
  }

  /** Listening again on the port it had before `down`. */
  async up(): Promise<void> {
    if (this.downPort === undefined) return;
    const port = this.downPort;
    await new Promise<void>((resolve, reject) => {
      this.listener.once('error', reject);
      this.listener.listen(port, '127.0.0.1', () => {
        this.listener.removeListener('error', reject);
        resolve();
      });
    });
    this.downPort = undefined;
  }

  async stop(): Promise<void> {
    if (this.downPort !== undefined) return;
    this.drop();
    await new Promise((resolve) => this.listener.close(resolve));
  }

  private record(event: SshLogEntry['event'], username: string, detail: string): void {
    this.log.push({ event, username, detail });
  }

  private accept(connection: Connection): void {
    let username = '';
    let closed = false;
    connection.on('error', () => undefined);
    connection.once('close', () => (closed = true));
    observeGlobalRequests(connection, (name) => this.record('global-request', username, name));
    connection.on('authentication', (ctx) => {
      if (ctx.method !== 'password') return ctx.reject(['password']);
      this.authorize(ctx.username, ctx.password).then(
        ({ user, backend }) => {
          if (closed) {
            backend.end();
            return;
          }
          username = ctx.username;
          this.record('accepted', username, user.name);
          this.relay(connection, backend, username);
          ctx.accept();
        },
        (err: Error) => {
          this.record('rejected', ctx.username, err instanceof Refusal ? err.message : `proxy error: ${err.message}`);
          ctx.reject(['password']);
        },
      );
    });
  }

  /** Diego's authentication: the user name, the code, CC's ssh_access checks, then the instance. */
  private async authorize(username: string, code: string): Promise<{ user: User; backend: ssh2.Client }> {
    const { world } = this.options;
    const match = USERNAME.exec(username);
    if (!match?.[1]) throw new Refusal(`user name '${username}' is not cf:<process-guid>/<index>`);
    const user = await this.userForCode(code);
    const found = world.processByGuid(match[1]);
    if (!found) throw new Refusal(`process ${match[1]} not found`);
    const { app, process } = found;
    const space = world.spaceOf(app);
    // CC's ssh_access: it records each check as an event about the process (named as its app),
    // with the index as it was asked for; Diego looks for the instance only after.
    const ssh = world.sshEnabled(app);
    const refusal = !world.isSpaceDeveloper(user, space)
      ? `${user.name} is neither admin nor a SpaceDeveloper of space ${space.name}`
      : ssh.enabled
        ? undefined
        : `SSH for app ${app.name}: ${ssh.reason}`;
    world.audit.record(refusal ? 'audit.app.ssh-unauthorized' : 'audit.app.ssh-authorized', { guid: process.guid, name: app.name }, space, user, { index: match[2] });
    if (refusal) throw new Refusal(refusal);
    if (app.state !== 'STARTED') throw new Refusal(`app ${app.name} is ${app.state}`);
    const index = Number(match[2]);
    const instance = process.instances[index];
    if (!instance) throw new Refusal(`instance ${index} of process ${process.type} of app ${app.name} not found`);
    if (instance.state !== 'RUNNING') throw new Refusal(`instance ${index} of process ${process.type} of app ${app.name} is ${instance.state}`);
    try {
      return { user, backend: await this.options.backends.connect({ app, process, index }) };
    } catch (err) {
      throw new Refusal(`instance ${index} of process ${process.type} of app ${app.name} is unreachable: ${(err as Error).message}`);
    }
  }

  /** Redeems the code as Diego does (authorization_code grant as client ssh-proxy), then asks CC who the token is. */
  private async userForCode(code: string): Promise<User> {
    const { status, body } = await postForm(
      `${this.options.uaaUrl()}/oauth/token`,
      { grant_type: 'authorization_code', code },
      `Basic ${Buffer.from(`${PROXY_CLIENT.id}:${PROXY_CLIENT.secret}`).toString('base64')}`,
      this.options.ca?.(),
    );
    const answer = JSON.parse(body || '{}') as { access_token?: string; error?: string };
    if (status !== 200 || !answer.access_token) throw new Refusal(`UAA refused the code (${status}${answer.error ? ` ${answer.error}` : ''})`);
    const userGuid = this.options.tokens.userForAccessToken(`bearer ${answer.access_token}`);
    const user = userGuid ? this.options.world.users.get(userGuid) : undefined;
    if (!user) throw new Refusal('CC does not accept the token UAA gave for the code');
    return user;
  }

  /** Relays channels and global requests between an authenticated client and its backend. */
  private relay(connection: Connection, backend: ssh2.Client, username: string): void {
    connection.once('close', () => backend.end());
    backend.once('close', () => connection.end());

    connection.on('session', (accept) => this.relaySession(accept(), backend, username));

    connection.on('tcpip', (accept, reject, { srcIP, srcPort, destIP, destPort }) => {
      backend.forwardOut(srcIP, srcPort, destIP, destPort, (err, channel) => {
        if (!err) return relayBothWays(accept(), channel);
        // The backend's reason, e.g. "Connection refused", as Diego relays it.
        const reason = (err as Error & { reason?: number }).reason;
        rejectChannelOpen(connection, reject, typeof reason === 'number' ? reason : SSH_OPEN_CONNECT_FAILED, err.message.replace(/^\(SSH\) Channel open failure: /, ''));
      });
    });

    // Remote forwarding (-R): the backend listens, its connections come back as forwarded-tcpip.
    connection.on('request', (accept, reject, name, info) => {
      const answer = (err: Error | null | undefined, port?: number) => (err ? reject?.() : accept?.(port));
      if (name === 'tcpip-forward') backend.forwardIn(info.bindAddr, info.bindPort, answer);
      else if (name === 'cancel-tcpip-forward') backend.unforwardIn(info.bindAddr, info.bindPort, answer);
      else reject?.();
    });
    backend.on('tcp connection', ({ destIP, destPort, srcIP, srcPort }, accept, reject) => {
      connection.forwardOut(destIP, destPort, srcIP, srcPort, (err, channel) => (err ? reject() : relayBothWays(channel, accept())));
    });
  }

  /**
   * A session: `env` and `pty-req` are collected until `shell`, `exec` or `subsystem`
   * opens the backend's session with them; then window changes and signals follow.
   */
  private relaySession(session: Session, backend: ssh2.Client, username: string): void {
    const env: Record<string, string> = {};
    let pty: PseudoTtyInfo | undefined;
    let backendChannel: ClientChannel | undefined;
    session.on('env', (accept, _reject, { key, val }) => {
      env[key] = val;
      accept?.();
    });
    session.on('pty', (accept, _reject, info) => {
      pty = info;
      accept?.();
    });
    session.on('window-change', (accept, _reject, { rows, cols, height, width }) => {
      if (backendChannel) backendChannel.setWindow(rows, cols, height, width);
      else if (pty) pty = { ...pty, rows, cols, height, width };
      accept?.();
    });
    session.on('signal', (accept, reject, { name }) => {
      if (!backendChannel) return reject?.();
      try {
        backendChannel.signal(name);
        accept?.();
      } catch {
        reject?.(); // a signal ssh2 does not know
      }
    });
    // The client's channel is accepted at once: ssh2 drops data sent on a session it has
    // not accepted yet, and clients may send stdin right after exec. It waits unread (and
    // so holds the client back) until the backend's channel is there.
    const start = (channel: ServerChannel, open: (callback: ClientCallback) => void) => {
      let closed = false;
      channel.once('close', () => (closed = true));
      channel.on('error', () => undefined);
      const refuse = (err: Error) => {
        channel.stderr.write(`ssh-proxy: the instance refused the session: ${err.message}\r\n`);
        channel.close();
      };
      try {
        open((err, opened) => {
          if (err) return refuse(err);
          if (closed) return opened.close();
          backendChannel = opened;
          this.relaySessionChannel(channel, opened, pty !== undefined, username);
        });
      } catch (err) {
        refuse(err as Error); // the backend connection is gone
      }
    };
    session.on('exec', (accept, _reject, { command }) => start(accept(), (cb) => backend.exec(command, { env, pty: pty ?? false }, cb)));
    session.on('shell', (accept) => start(accept(), (cb) => backend.shell(pty ?? false, { env }, cb)));
    session.on('subsystem', (accept, _reject, { name }) => start(accept(), (cb) => backend.subsys(name, cb)));
  }

  /**
   * Relays an open session: data both ways, then from the backend its exit (status or
   * signal), EOF and close, in that order: an ssh2 client closes a channel once it has
   * its EOF, and would miss an exit-status sent after it. With a PTY, sends keepalives.
   * Requests to the client go one at a time, each after the previous one's reply, so an
   * unanswered keepalive holds back exit-status (as on Diego).
   */
  private relaySessionChannel(client: ServerChannel, backend: ClientChannel, withPty: boolean, username: string): void {
    let requests: Promise<unknown> = Promise.resolve();
    const inTurn = (request: () => unknown) => (requests = requests.then(request));

    void copy(client, backend).then(() => backend.eof());
    const output = Promise.all([copy(backend, client), copy(backend.stderr, client.stderr)]);
    const exit = new Promise<ExitInfo | undefined>((resolve) => {
      backend.once('exit', (code: number | null, signal?: string, coreDumped?: boolean, message?: string) => {
        stopKeepalives();
        resolve({ code, signal, coreDumped, message });
      });
      backend.once('close', () => resolve(undefined));
    });
    const ended = Promise.all([output, exit]).then(([, status]) =>
      inTurn(() => {
        try {
          if (status?.code === null) client.exit(status.signal ?? '', Boolean(status.coreDumped), status.message ?? '');
          else if (status) client.exit(status.code);
        } catch {
          // A signal name ssh2 does not know: the client sees the session end without one.
        }
        client.eof();
      }),
    );
    backend.once('close', () => {
      stopKeepalives();
      void ended.then(() => inTurn(() => client.close()));
    });
    client.once('close', () => {
      stopKeepalives();
      backend.close();
    });

    let keepalives: NodeJS.Timeout | undefined;
    let keepalivesStopped = !withPty;
    const stopKeepalives = () => {
      keepalivesStopped = true;
      clearTimeout(keepalives);
    };
    const scheduleKeepalive = () => {
      if (keepalivesStopped) return;
      keepalives = setTimeout(() => {
        void inTurn(async () => {
          if (keepalivesStopped) return;
          const outcome = await askChannelRequest(client, KEEPALIVE_REQUEST);
          if (outcome !== 'unanswered') this.record('keepalive', username, outcome);
        }).then(scheduleKeepalive);
      }, this.keepaliveSeconds * 1000);
    };
    scheduleKeepalive();
  }
}

/** The formats cf accepts, told apart by length: 43, 64, 59 and 47 characters. */
function fingerprintsOf(hostKey: Buffer, otherKey: Buffer): Record<FingerprintFormat, string> {
  const digest = (algorithm: string, key = hostKey) => createHash(algorithm).update(key).digest();
  const unpaddedBase64 = (bytes: Buffer) => bytes.toString('base64').replace(/=+$/, '');
  const colonHex = (bytes: Buffer) => bytes.toString('hex').replace(/(..)(?!$)/g, '$1:');
  return {
    'sha256-base64': unpaddedBase64(digest('sha256')),
    'sha256-hex': digest('sha256').toString('hex'),
    sha1: colonHex(digest('sha1')),
    md5: colonHex(digest('md5')),
    wrong: unpaddedBase64(digest('sha256', otherKey)),
  };
}

function postForm(url: string, form: Record<string, string>, authorization: string, ca?: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const options: https.RequestOptions = {
    method: 'POST',
    ca,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json', Authorization: authorization },
  };
  return new Promise((resolve, reject) => {
    const request = (target.protocol === 'https:' ? https : http).request(target, options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.end(new URLSearchParams(form).toString());
  });
}
