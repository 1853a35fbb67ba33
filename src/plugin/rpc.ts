// Go's net/rpc client over the gob codec: a request header and the argument out, a response
// header and the reply back. cf's plugin RPC server listens on 127.0.0.1; each connection is a
// fresh gob stream in each direction.
import net from 'node:net';
import { UserError } from '../errors.js';
import { GobDecoder, GobEncoder, GobError, type GobType, gobString, gobStruct, gobUint } from './gob.js';

export const rpcRequest = gobStruct('Request', { ServiceMethod: gobString, Seq: gobUint });
export const rpcResponse = gobStruct('Response', { ServiceMethod: gobString, Seq: gobUint, Error: gobString });
/** The reply body net/rpc sends with an error: an empty anonymous struct. */
export const rpcErrorBody = gobStruct('', {});

/** A call that failed: cf's own error reply (`fromServer`), or the connection (refused, closed, timed out, bad data). */
export class RpcError extends UserError {
  constructor(
    readonly method: string,
    readonly detail: string,
    readonly fromServer: boolean,
  ) {
    super(fromServer ? `cf answered ${method} with an error: ${detail}` : `The plugin could not talk to cf (${method}): ${detail}`);
  }
}

/** Long enough for cf to refresh a token through a slow UAA, short enough that nothing hangs. */
const DEFAULT_TIMEOUT_MS = 60_000;

/** One connection to the server; calls on it are numbered from 0, as Go's client numbers them. */
export class RpcConnection {
  private readonly encoder = new GobEncoder();
  private readonly decoder = new GobDecoder();
  private seq = 0;
  private failure?: Error;
  private closed = false;
  private wake = (): void => undefined;

  private constructor(
    private readonly socket: net.Socket,
    private readonly deadline: NodeJS.Timeout,
  ) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk);
      this.wake();
    });
    socket.on('error', (err) => {
      this.failure ??= err;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** Connects to 127.0.0.1:port; the whole connection, calls included, must be done within `timeoutMs`. */
  static open(port: number, timeoutMs: number, method: string): Promise<RpcConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const deadline = setTimeout(() => socket.destroy(new RpcError(method, `no answer within ${timeoutMs / 1000} s`, false)), timeoutMs);
      const refused = (err: Error) => {
        clearTimeout(deadline);
        reject(err instanceof RpcError ? err : new RpcError(method, err.message, false));
      };
      socket.once('error', refused);
      socket.once('connect', () => {
        socket.off('error', refused);
        resolve(new RpcConnection(socket, deadline));
      });
    });
  }

  async call<A, R>(method: string, argType: GobType<A>, arg: A, replyType: GobType<R>): Promise<R> {
    const seq = this.seq++;
    this.socket.write(Buffer.concat([this.encoder.encode(rpcRequest, { ServiceMethod: method, Seq: seq }), this.encoder.encode(argType, arg)]));
    const header = await this.read(method, () => this.decoder.next(rpcResponse));
    if (header.Seq !== seq) throw new RpcError(method, `the answer is numbered ${header.Seq}, the call ${seq}`, false);
    if (header.Error) {
      await this.read(method, () => this.decoder.skipNext() || undefined);
      throw new RpcError(method, header.Error, true);
    }
    return this.read(method, () => this.decoder.next(replyType));
  }

  close(): void {
    clearTimeout(this.deadline);
    this.socket.destroy();
  }

  /** Waits for arriving bytes until `attempt` has its value. */
  private async read<T>(method: string, attempt: () => T | undefined): Promise<T> {
    for (;;) {
      let value: T | undefined;
      try {
        value = attempt();
      } catch (err) {
        if (err instanceof GobError) throw new RpcError(method, `the answer is not gob as Go writes it: ${err.message}`, false);
        throw err;
      }
      if (value !== undefined) return value;
      if (this.failure) throw this.failure instanceof RpcError ? this.failure : new RpcError(method, this.failure.message, false);
      if (this.closed) throw new RpcError(method, 'cf closed the connection before it answered', false);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

/** A net/rpc server on 127.0.0.1:port, reached with a new connection per call, as cf expects. */
export class RpcClient {
  constructor(
    readonly port: number,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  call<A, R>(method: string, argType: GobType<A>, arg: A, replyType: GobType<R>): Promise<R> {
    return this.withConnection(method, (connection) => connection.call(method, argType, arg, replyType));
  }

  /** Several calls on one connection (cf's CliCommand is three that belong together). */
  async withConnection<T>(method: string, calls: (connection: RpcConnection) => Promise<T>): Promise<T> {
    const connection = await RpcConnection.open(this.port, this.timeoutMs, method);
    try {
      return await calls(connection);
    } finally {
      connection.close();
    }
  }
}
