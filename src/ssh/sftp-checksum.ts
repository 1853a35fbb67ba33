// SHA-256 computed where the file is, on the instance, by its own sha256sum: --verify and
// --resume compare it with the local file's without moving the bytes again.
import type { Client } from 'ssh2';

const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

/** What `sha256sum` is missing from the instance's PATH. */
const NOT_FOUND = 127;

/**
 * The SHA-256 (hex) of the remote file, or of its first `length` bytes; undefined when the
 * instance has no sha256sum (or head, for a part).
 */
export async function remoteSha256(connection: Client, path: string, length?: number): Promise<string | undefined> {
  const file = shellQuote(path);
  const tools = length === undefined ? 'sha256sum' : 'head sha256sum';
  const hashed = length === undefined ? `sha256sum < ${file}` : `head -c ${length} < ${file} | sha256sum`;
  const command = `for tool in ${tools}; do command -v "$tool" >/dev/null || exit ${NOT_FOUND}; done; set -o pipefail; ${hashed}`;
  const { code, stdout, stderr } = await execute(connection, command);
  if (code === NOT_FOUND) return undefined;
  const digest = /^[0-9a-f]{64}\b/.exec(stdout)?.[0];
  if (code !== 0 || !digest) throw new Error(stderr.trim().replace(/^bash: (line \d+: )?/, '') || `sha256sum ended with status ${code}`);
  return digest;
}

function execute(connection: Client, command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    connection.exec(command, (err, channel) => {
      if (err) return reject(err);
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      channel.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      channel.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      channel.on('exit', (status: number | null) => (code = status));
      channel.once('close', () => resolve({ code, stdout, stderr }));
    });
  });
}
