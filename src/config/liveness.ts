// A run's proof of life that outlasts no crash: a local socket (a Unix socket, a named pipe on
// Windows) it listens on while it lives. The kernel closes it when the process dies, even on
// SIGKILL, which skips every clean-up. A socket that refuses connections belongs to a run that
// is gone; a pid proves nothing, pids are reused.
import net from 'node:net';

/** macOS allows 104 bytes for a socket path, its terminating NUL included (Linux 108). */
export const SOCKET_PATH_LIMIT = 103;

/** Listens on `socket` for as long as the process lives (or until closed); a connection is the whole answer. */
export function holdLiveness(socket: string): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((connection) => connection.destroy());
    server.once('error', reject);
    server.listen(socket, () => {
      server.off('error', reject);
      // A failed accept (out of file descriptors) must not end the run; the listener stays.
      server.on('error', () => undefined);
      server.unref();
      resolve(server);
    });
  });
}

/**
 * What `socket` says of its run: it answers (alive), it refuses (its process died: the kernel
 * closed it, the file stayed), it is gone (removed: its run ended, or is ending now), or the
 * question stays open (anything else), which must count as alive.
 */
export function probeLiveness(socket: string): Promise<'answers' | 'refuses' | 'gone' | 'unknown'> {
  return new Promise((resolve) => {
    const probe = net.connect(socket);
    probe.once('connect', () => {
      probe.destroy();
      resolve('answers');
    });
    probe.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' ? 'refuses' : err.code === 'ENOENT' ? 'gone' : 'unknown'));
  });
}

/** Stops listening: the run is over. */
export function releaseLiveness(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
