// Readiness checks of the foundation's database servers: a real connection and the first
// exchange of each wire protocol, so that "ready" means the server answers its clients (not
// just that its port is open, nor that some time has passed).
import net from 'node:net';
import tls from 'node:tls';

const PROBE_TIMEOUT_MS = 2000;

/**
 * Sends `request` on a fresh connection and resolves with what came back once `complete` is
 * satisfied, or with what there was when the server closed, failed or went quiet.
 */
function exchange(connect: () => net.Socket, request: Buffer, complete: (answer: Buffer) => boolean): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = connect();
    let answer = Buffer.alloc(0);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, PROBE_TIMEOUT_MS);
    socket.once(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk]);
      if (complete(answer)) done();
    });
    socket.once('error', done);
    socket.once('close', done);
  });
}

const plain = (port: number) => () => net.connect(port, '127.0.0.1');

/**
 * PostgreSQL (or PGlite): a startup message for the user and database. A server that accepts
 * connections asks for authentication ('R'); one still starting answers with an error ('E').
 */
export async function postgresAnswers(port: number, user: string, database: string): Promise<boolean> {
  const parameters = Buffer.from(`user\0${user}\0database\0${database}\0\0`);
  const startup = Buffer.alloc(8);
  startup.writeInt32BE(8 + parameters.length, 0);
  startup.writeInt32BE(196608, 4); // protocol 3.0
  const answer = await exchange(plain(port), Buffer.concat([startup, parameters]), (a) => a.length > 0);
  return answer[0] === 'R'.charCodeAt(0);
}

/** MariaDB: it greets every connection with a protocol 10 handshake once it serves clients (an error packet otherwise). */
export async function mysqlGreets(port: number): Promise<boolean> {
  const answer = await exchange(plain(port), Buffer.alloc(0), (a) => a.length > 4);
  return answer[4] === 10;
}

/** Redis: AUTH with the password, then PING; over TLS when given the CA that must have signed the server's certificate. */
export async function redisAnswers(port: number, password: string, ca?: string): Promise<boolean> {
  const command = (...words: string[]) => `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join('')}`;
  const connect = ca ? () => tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca }) : plain(port);
  const expected = '+OK\r\n+PONG\r\n';
  const answer = await exchange(connect, Buffer.from(command('AUTH', password) + command('PING')), (a) => a.length >= expected.length);
  return answer.toString() === expected;
}
