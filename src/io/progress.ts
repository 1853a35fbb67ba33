// A progress line on stderr for long reads (ssh-audit's one request per app): ora's spinner
// with a count and a bar drawn in its text. Only on a terminal: piped or redirected stderr
// gets nothing, so logs and CI output hold warnings only.
import type { Terminal } from './terminal.js';

export interface Progress {
  update(done: number, total: number): void;
  stop(): void;
}

const BAR_WIDTH = 24;

const silent: Progress = { update: () => undefined, stop: () => undefined };

function bar(done: number, total: number): string {
  const filled = total > 0 ? Math.round((done / total) * BAR_WIDTH) : BAR_WIDTH;
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
}

/** The bar, then done/total unless `format` says otherwise (copy: bytes, rate and ETA). */
export async function startProgress(term: Terminal, label: string, format: (done: number, total: number) => string = (done, total) => `${done}/${total}`): Promise<Progress> {
  const { stderr } = term.streams;
  if (!stderr.isTTY) return silent;
  const { default: ora } = await import('ora');
  const spinner = ora({ text: label, stream: stderr, discardStdin: false, isEnabled: true }).start();
  return {
    update(done, total) {
      spinner.text = `${label} ${bar(done, total)} ${format(done, total)}`;
    },
    stop() {
      spinner.stop();
    },
  };
}
