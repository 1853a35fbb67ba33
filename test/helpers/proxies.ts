// Proxy doubles on loopback for the tests: an HTTP CONNECT proxy and a SOCKS5 proxy (no
// authentication, CONNECT only), each recording where it tunnelled to.
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';

export interface TestProxy {
  url: string;
  tunnels: string[];
  close(): void;
}

function splice(client: net.Socket, host: string, port: number, onOpen: () => void, head?: Buffer): void {
  const upstream = net.connect(port, host, () => {
    onOpen();
    if (head?.length) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  client.once('close', () => upstream.destroy());
}

export async function connectProxy(): Promise<TestProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req, client: net.Socket, head) => {
    sockets.add(client);
    tunnels.push(req.url ?? '');
    const [host = '', port] = (req.url ?? '').split(':');
    splice(client, host, Number(port), () => client.write('HTTP/1.1 200 Connection Established\r\n\r\n'), head);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** RFC 1928, the "no authentication" method and CONNECT to an IPv4 address or a domain name. */
export async function socks5Proxy(): Promise<TestProxy> {
  const tunnels: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('data', (greeting) => {
      if (greeting[0] !== 5) return client.destroy();
      client.write(Buffer.from([5, 0]));
      client.once('data', (request) => {
        const type = request[3];
        let host: string;
        let offset: number;
        if (type === 1) {
          host = [...request.subarray(4, 8)].join('.');
          offset = 8;
        } else if (type === 3) {
          const length = request.readUInt8(4);
          host = request.subarray(5, 5 + length).toString();
          offset = 5 + length;
        } else {
          return client.destroy();
        }
        const port = request.readUInt16BE(offset);
        tunnels.push(`${host}:${port}`);
        splice(client, host, port, () => client.write(Buffer.from([5, 0, 0, 1, 0, 0, 0, 0, 0, 0])));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `socks5://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
