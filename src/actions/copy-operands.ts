// copy's SRC and DST: APP:PATH is on an instance, anything else on this computer. A local path
// with a colon is written ./a:b (a colon after a slash is never an app's), and one letter
// followed by :\ or :/ is a Windows drive (C:\dump.sql), never an app called C.
import { UsageError } from '../errors.js';

export type Operand = { side: 'local'; path: string } | { side: 'remote'; appName: string; path: string };

const WINDOWS_DRIVE = /^[A-Za-z]:[\\/]/;
const APP_AND_PATH = /^([^/\\:]+):(.*)$/s;

export function parseOperand(text: string): Operand {
  if (text === '') throw new UsageError('copy takes a path, not an empty argument');
  const app = WINDOWS_DRIVE.test(text) ? undefined : APP_AND_PATH.exec(text);
  // APP: alone is the instance's home folder, where the SFTP server starts.
  if (app?.[1]) return { side: 'remote', appName: app[1], path: app[2] || '.' };
  return { side: 'local', path: text };
}

/** SRC and DST: exactly one of them on an instance. */
export function parseOperands(source: string, destination: string): { source: Operand; destination: Operand; appName: string } {
  const from = parseOperand(source);
  const to = parseOperand(destination);
  if (from.side === 'remote' && to.side === 'remote') {
    throw new UsageError(`copy goes between this computer and one app instance, not from '${from.appName}' to '${to.appName}'`);
  }
  const remote = from.side === 'remote' ? from : to.side === 'remote' ? to : undefined;
  if (!remote) throw new UsageError(`neither '${source}' nor '${destination}' names an app: write APP_NAME:PATH on one side`);
  return { source: from, destination: to, appName: remote.appName };
}
