// Socket and name-lookup errors in words: Node's error codes (ECONNREFUSED…) mean nothing to
// most users, and each layer that dials or listens used to translate its own few.

const WORDS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name does not resolve',
  ECONNABORTED: 'the request timed out',
  ETIMEDOUT: 'the request timed out',
  ECONNRESET: 'the connection was closed',
  EPIPE: 'the connection was closed',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  EADDRINUSE: 'the port is in use',
  EADDRNOTAVAIL: 'the address is not on this machine',
  EACCES: 'permission denied',
};

/** The words for an error code: undefined for a code that has none of its own. */
export function socketFailureWords(code: string | undefined): string | undefined {
  return code === undefined ? undefined : WORDS[code];
}

/** Why a dial or listen failed, in words where the code has them, else the error's own message. */
export function socketFailure(err: NodeJS.ErrnoException): string {
  return socketFailureWords(err.code) ?? err.message;
}
